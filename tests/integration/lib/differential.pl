#!/usr/bin/perl
# Differential test of consumer-lag against brute force: seeded random
# histories of XADD, XREADGROUP, XACK, XTRIM (MAXLEN and MINID, exact and
# ~), XDEL, XGROUP SETID and CREATE (without ENTRIESREAD), each step
# followed by one request to `streamlag serve` (through nginx) and, for
# every group, a check against what Redis holds:
#   pending         == XPENDING's count
#   lag_exact true:    lag == entries after last-delivered-id (full XRANGE)
#   lag_exact false:   lag <= truth <= lag_max
#   trimmed_unread  == Redis's lag - truth when exact and Redis has a lag
# Every CHECK_EVERY steps the history pauses: every group must be exact
# within the requests its longest count needs (XLEN / STEP, one step per
# request) plus 2.  Prints TAP; the seed of a failure is printed.
#
# usage: differential.pl REDIS_PORT HTTP_PORT TOKEN SEED STEPS COUNT_STEP
use strict;
use warnings;
use IO::Socket::INET;
use HTTP::Tiny;
use JSON::PP;

my ($rport, $hport, $token, $seed, $steps, $cstep) = @ARGV;
my $CHECK_EVERY = 50;
my @STREAMS = map { "diff:s$_" } 0 .. 2;
srand($seed);

my $sock = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$rport")
    or die "redis: $!\n";
$sock->autoflush(1);

sub cmd {
	my $out = '*' . scalar(@_) . "\r\n";
	$out .= '$' . length($_) . "\r\n$_\r\n" for @_;
	print $sock $out;
	return read_reply();
}

sub read_reply {
	my $line = <$sock>;
	die "redis closed\n" unless defined $line;
	$line =~ s/\r\n$//;
	my ($t, $v) = (substr($line, 0, 1), substr($line, 1));
	return $v if $t eq '+';
	return { err => $v } if $t eq '-';
	return $v + 0 if $t eq ':';
	if ($t eq '$') {
		return undef if $v < 0;
		my $buf = '';
		read($sock, $buf, $v + 2) == $v + 2 or die "short read\n";
		return substr($buf, 0, $v);
	}
	if ($t eq '*') {
		return undef if $v < 0;
		return [ map { read_reply() } 1 .. $v ];
	}
	die "bad reply: $line\n";
}

my $http = HTTP::Tiny->new(timeout => 30);
my $url = "http://127.0.0.1:$hport/api/v1/events/consumer-lag?group=*";
my $n = 0;
my $failed = 0;

sub ok {
	my ($cond, $what) = @_;
	$n++;
	print(($cond ? "ok" : "not ok") . " $n - $what\n");
	unless ($cond) {
		$failed++;
		print "# seed $seed (SL_DIFF_SEED=$seed reproduces it)\n";
	}
	return $cond;
}

sub id_cmp {
	my ($a, $b) = @_;
	my ($am, $as) = split /-/, $a;
	my ($bm, $bs) = split /-/, $b;
	return $am <=> $bm || $as <=> $bs;
}

sub groups_of {
	my ($s) = @_;
	my $r = cmd('XINFO', 'GROUPS', $s);
	return [] if ref $r eq 'HASH';
	return [ map { my %h = @$_; \%h } @$r ];
}

sub ids_of {
	my ($s) = @_;
	my $r = cmd('XRANGE', $s, '-', '+');
	return [] if ref $r ne 'ARRAY';
	return [ map { $_->[0] } @$r ];
}

my $payload = 'x' x 64;
my $seq = 0;

# One random step of history.
sub step {
	my $s = $STREAMS[int rand @STREAMS];
	my $ids = ids_of($s);
	my $groups = groups_of($s);
	my $r = rand;
	my $desc;
	if ($r < 0.30 || !@$ids) {
		my $k = 1 + int rand 4;
		cmd('XADD', $s, '*', 'f', $payload . $seq++) for 1 .. $k;
		$desc = "XADD $s x$k";
		if (!@$groups) {
			cmd('XGROUP', 'CREATE', $s, 'g0', '0');
			$desc .= "; XGROUP CREATE $s g0 0";
		}
	} elsif ($r < 0.52 && @$groups) {
		my $g = $groups->[int rand @$groups]{name};
		my $k = 1 + int rand 8;
		cmd('XREADGROUP', 'GROUP', $g, 'c' . int(rand 2), 'COUNT', $k,
		    'STREAMS', $s, '>');
		$desc = "XREADGROUP $g COUNT $k $s";
	} elsif ($r < 0.62 && @$groups) {
		my $g = $groups->[int rand @$groups]{name};
		my $p = cmd('XPENDING', $s, $g, '-', '+', 5);
		my @acks = map { $_->[0] } grep { rand() < 0.7 } @{ ref $p eq 'ARRAY' ? $p : [] };
		cmd('XACK', $s, $g, @acks) if @acks;
		$desc = "XACK $s $g " . scalar(@acks);
	} elsif ($r < 0.72) {
		my $approx = rand() < 0.5;
		if (rand() < 0.5) {
			my $len = int rand(@$ids + 1);
			cmd('XTRIM', $s, 'MAXLEN', ($approx ? ('~') : ()), $len);
			$desc = "XTRIM $s MAXLEN " . ($approx ? '~ ' : '') . $len;
		} else {
			my $id = $ids->[int rand @$ids];
			cmd('XTRIM', $s, 'MINID', ($approx ? ('~') : ()), $id);
			$desc = "XTRIM $s MINID " . ($approx ? '~ ' : '') . $id;
		}
	} elsif ($r < 0.80) {
		my $id = $ids->[int rand @$ids];
		cmd('XDEL', $s, $id);
		$desc = "XDEL $s $id";
	} elsif ($r < 0.88 && @$groups) {
		my $g = $groups->[int rand @$groups]{name};
		my $to = rand() < 0.2 ? '$' : rand() < 0.2 ? '0' : $ids->[int rand @$ids];
		cmd('XGROUP', 'SETID', $s, $g, $to);
		$desc = "XGROUP SETID $s $g $to";
	} elsif ($r < 0.94 && @$groups < 4) {
		my $g = 'g' . scalar(@$groups);
		my $at = rand() < 0.3 ? '0' : $ids->[int rand @$ids];
		cmd('XGROUP', 'CREATE', $s, $g, $at);
		$desc = "XGROUP CREATE $s $g $at";
	} else {
		# Keep streams to a few hundred entries.
		cmd('XTRIM', $s, 'MAXLEN', '~', 200);
		$desc = "XTRIM $s MAXLEN ~ 200";
	}
	return $desc;
}

# One request; checks every group; returns how many were inexact.
sub check {
	my ($label) = @_;
	my $res = $http->get($url, { headers => { Authorization => "Bearer $token" } });
	return -1 unless ok($res->{status} == 200, "$label: 200")
	    || (print("# $res->{status} $res->{content}\n") && 0);
	my $body = decode_json($res->{content});
	my ($inexact, $bad) = (0, 0);
	for my $s (@STREAMS) {
		my $ids = ids_of($s);
		for my $g (@{ groups_of($s) }) {
			my $name = $g->{name};
			my $e = $body->{streams}{$s}{groups}{$name};
			unless ($e) {
				$bad++;
				print "# $label: $s $name missing from the answer\n";
				next;
			}
			my $last = $g->{'last-delivered-id'};
			my $truth = grep { id_cmp($_, $last) > 0 } @$ids;
			my $xp = cmd('XPENDING', $s, $name);
			my $why = '';
			$why .= " pending $e->{pending} != XPENDING $xp->[0];"
			    if $e->{pending} != $xp->[0];
			if ($e->{lag_exact}) {
				$why .= " exact lag $e->{lag} != $truth;"
				    if $e->{lag} != $truth;
				my $want = defined $g->{lag} ? $g->{lag} - $truth : 0;
				$want = 0 if $want < 0;
				$why .= " trimmed_unread $e->{trimmed_unread} != $want;"
				    if $e->{trimmed_unread} != $want;
			} else {
				$inexact++;
				printf "# %s: %s %s inexact: lag %d..%s, truth %d, Redis lag %s, "
				    . "entries-read %s, last %s, XLEN %d, first %s\n", $label, $s,
				    $name, $e->{lag}, $e->{lag_max} // 'null', $truth,
				    $g->{lag} // 'nil', $g->{'entries-read'} // 'nil', $last,
				    scalar(@$ids), $ids->[0] // '-'
				    if $ENV{SL_DIFF_VERBOSE} || $label =~ /quiet request [3-9]/;
				$why .= " truth $truth below lag $e->{lag};"
				    if $truth < $e->{lag};
				$why .= " truth $truth above lag_max $e->{lag_max};"
				    if defined $e->{lag_max} && $truth > $e->{lag_max};
			}
			if ($why ne '') {
				$bad++;
				my $rl = defined $g->{lag} ? $g->{lag} : 'nil';
				print "# $label: $s $name:$why (last $last, Redis lag $rl, "
				    . "XLEN " . scalar(@$ids) . ")\n";
			}
		}
	}
	ok($bad == 0, "$label: every group matches brute force");
	return $inexact;
}

my ($exact_seen, $inexact_seen) = (0, 0);
for my $i (1 .. $steps) {
	my $desc = step();
	my $inx = check("step $i ($desc)");
	$inexact_seen += $inx if $inx > 0;
	last if $failed > 5;
	if ($i % $CHECK_EVERY == 0) {
		my ($q, $left, $longest) = (0, 0, 0);
		for my $s (@STREAMS) {
			my $len = cmd('XLEN', $s);
			$longest = $len if $len > $longest;
		}
		my $quiet_max = 2 + int(($longest + $cstep - 1) / $cstep);
		do { $left = check("step $i, quiet request " . ++$q) }
		    while ($left > 0 && $q < $quiet_max);
		ok($left == 0, "step $i: every group exact after $q quiet "
		    . "requests (longest stream $longest, at most $quiet_max)");
	}
}
print "# seed $seed, $steps steps, inexact answers seen: $inexact_seen\n";
exit($failed ? 1 : 0);
