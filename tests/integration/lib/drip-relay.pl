#!/usr/bin/perl
# SPDX-License-Identifier: ISC
# drip-relay.pl LISTEN_PORT UPSTREAM_PORT [MS]: a TCP relay on 127.0.0.1
# that passes what clients send at once, and what the upstream answers one
# byte every MS milliseconds (500): a Redis that is alive but crawling.
# Prints "ready" once it listens.
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time);

my ($lport, $uport, $ms) = @ARGV;
$ms //= 500;
my $l = IO::Socket::INET->new(Listen => 16, LocalAddr => '127.0.0.1',
    LocalPort => $lport, ReuseAddr => 1) or die "listen $lport: $!\n";
$| = 1;
print "ready\n";
my $sel = IO::Select->new($l);
my (%peer, %pending, %next);	# client => upstream, client => bytes owed
while (1) {
	my $now = time;
	my $wait = 1;
	for my $c (keys %pending) {
		next unless length $pending{$c};
		my $d = $next{$c} - $now;
		$wait = $d if $d < $wait;
	}
	$wait = 0 if $wait < 0;
	for my $fh ($sel->can_read($wait)) {
		if ($fh == $l) {
			my $c = $l->accept or next;
			my $u = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$uport")
			    or do { close $c; next };
			$peer{$c} = [$c, $u];
			$peer{$u} = [$c, $u];
			$pending{$c} = '';
			$next{$c} = time;
			$sel->add($c, $u);
			next;
		}
		my ($c, $u) = @{$peer{$fh} || next};
		my $n = sysread($fh, my $buf, 65536);
		if (!$n) {
			$sel->remove($c, $u);
			delete @peer{$c, $u};
			delete $pending{$c};
			close $c;
			close $u;
			next;
		}
		if ($fh == $c) {
			syswrite($u, $buf);
		} else {
			$pending{$c} .= $buf;
		}
	}
	$now = time;
	for my $key (keys %pending) {
		next unless length $pending{$key} && $now >= $next{$key};
		my ($c) = @{$peer{$key}};
		syswrite($c, substr($pending{$key}, 0, 1, ''));
		$next{$key} = $now + $ms / 1000;
	}
}
