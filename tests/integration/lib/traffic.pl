#!/usr/bin/perl
# SPDX-License-Identifier: ISC
# traffic.pl PORT STREAM GROUP FILE: a producer and a consumer of steady
# shape over one connection.  Every 100 ms, on a fixed schedule (not drifting
# with the time the commands take), it adds 2 entries to STREAM and, while
# FILE holds a count above 0, reads that many for GROUP (consumer c).  It
# stops when FILE is gone.
use strict;
use warnings;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);

my ($port, $stream, $group, $file) = @ARGV;
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port") or die "connect: $!";
$s->autoflush(1);

sub line { my $l = <$s>; defined $l or die "redis closed"; return $l; }
# One reply, skipped (an error stops the driver).
sub reply {
	my $l = line();
	my $t = substr($l, 0, 1);
	die "redis: $l" if $t eq '-';
	if ($t eq '*') { my $n = substr($l, 1) + 0; reply() for 1 .. $n; }
	elsif ($t eq '$') { my $n = substr($l, 1) + 0; read($s, my $b, $n + 2) if $n >= 0; }
}
sub cmd {
	my $c = '*' . scalar(@_) . "\r\n";
	$c .= '$' . length($_) . "\r\n$_\r\n" for @_;
	print $s $c;
	reply();
}

my $t0 = time;
for (my $k = 1; -e $file; $k++) {
	open(my $fh, '<', $file) or last;
	my $c = <$fh> // 0;
	close($fh);
	chomp $c;
	cmd('XADD', $stream, '*', 'k', 'v') for 1 .. 2;
	cmd('XREADGROUP', 'GROUP', $group, 'c', 'COUNT', $c, 'STREAMS', $stream, '>') if $c > 0;
	my $wait = $t0 + $k * 0.1 - time;
	sleep($wait) if $wait > 0;
}
