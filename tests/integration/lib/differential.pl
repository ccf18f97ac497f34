#!/usr/bin/perl
# SPDX-License-Identifier: ISC
# Differential test of consumer-lag: seeded random histories of XADD,
# XREADGROUP, XACK, XTRIM (MAXLEN and MINID, exact and ~), XDEL, XGROUP
# SETID and CREATE (without ENTRIESREAD), each step followed by one request
# to `streamlag serve` (through nginx) and, for every group, checks against
# the test's own model of the history (lib/StreamModel.pm: every id it
# added, which are left, each group's last-delivered-id, the entries
# removed before the group read them) and against what Redis holds:
#   the model        == XRANGE (ids), XINFO GROUPS (last-delivered-id, lag),
#                       and Redis's lag - truth == its count of entries
#                       removed before delivery
#   pending          == XPENDING's count
#   lag_exact true:     lag == entries after last-delivered-id
#                       trimmed_unread == the model's entries removed
#                       before delivery (0 where Redis gives no lag)
#   lag_exact false:    lag <= truth <= lag_max, trimmed_unread == 0
# Every CHECK_EVERY steps the history pauses: every group must be exact
# within the requests its longest count needs (XLEN / STEP, one step per
# request) plus 2.  Prints TAP; the seed of a failure is printed.
#
# usage: differential.pl REDIS_PORT HTTP_PORT TOKEN SEED STEPS COUNT_STEP
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use IO::Socket::INET;
use HTTP::Tiny;
use JSON::PP;
use StreamModel qw(id_cmp);

my ($rport, $hport, $token, $seed, $steps, $cstep) = @ARGV;
my $CHECK_EVERY = 50;
my @STREAMS = map { "diff:s$_" } 0 .. 2;
my %model = map { $_ => StreamModel->new } @STREAMS;
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
# Requests take turns: ?group=* (XINFO GROUPS, then each group's
# follow-ups) and ?group=g0, the one-group path (XLEN beside XINFO GROUPS
# in the first batch, Redis's figure checked by it), whose answer holds g0
# of each stream alone.
my $url = "http://127.0.0.1:$hport/api/v1/events/consumer-lag";
my $nreq = 0;
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

# Explicit ids, one millisecond apart, in the past: a history (and so
# where the server's nodes split, which decides what a trim with ~ removes)
# is the same on every run of its seed, however busy the machine.
my $payload = 'x' x 64;
my $seq = 0;
my $base_ms = int(time) * 1000 - 1_000_000;
my @model_errors;

# Removal by HOW ('trim' or 'xdel'): the model learns which entries the
# command removed from the ids left (a trim with ~ removes whole nodes, which
# only the server knows), and checks the count the server replied.
sub removed {
	my ($s, $how, $reply) = @_;
	my $m = $model{$s};
	my %left = map { $_ => 1 } @{ ids_of($s) };
	my @gone = grep { !$left{$_} } @{ $m->ids };
	push @model_errors, "$s: $how removed " . scalar(@gone)
	    . ", the server said $reply" if !ref $reply && $reply != @gone;
	$m->remove($how, @gone);
}

# One random step of history, applied to Redis and to the model.
sub step {
	my $s = $STREAMS[int rand @STREAMS];
	my $m = $model{$s};
	my @ids = @{ $m->ids };
	my @groups = $m->group_names;
	my $r = rand;
	my $desc;
	if ($r < 0.30 || !@ids) {
		my $k = 1 + int rand 4;
		for (1 .. $k) {
			$m->add(cmd('XADD', $s, ($base_ms + $seq) . '-0', 'f', $payload . $seq));
			$seq++;
		}
		$desc = "XADD $s x$k";
		if (!@groups) {
			cmd('XGROUP', 'CREATE', $s, 'g0', '0');
			$m->set_group('g0', '0');
			$desc .= "; XGROUP CREATE $s g0 0";
		}
	} elsif ($r < 0.52 && @groups) {
		my $g = $groups[int rand @groups];
		my $k = 1 + int rand 8;
		my $got = cmd('XREADGROUP', 'GROUP', $g, 'c' . int(rand 2), 'COUNT', $k,
		    'STREAMS', $s, '>');
		my $want = join ' ', @{ $m->deliver($g, $k) };
		$got = join ' ', map { $_->[0] } @{ ref $got eq 'ARRAY' ? $got->[0][1] : [] };
		push @model_errors, "$s $g: delivered [$got], the model expected [$want]"
		    if $got ne $want;
		$desc = "XREADGROUP $g COUNT $k $s";
	} elsif ($r < 0.62 && @groups) {
		my $g = $groups[int rand @groups];
		my $p = cmd('XPENDING', $s, $g, '-', '+', 5);
		my @acks = map { $_->[0] } grep { rand() < 0.7 } @{ ref $p eq 'ARRAY' ? $p : [] };
		cmd('XACK', $s, $g, @acks) if @acks;
		$desc = "XACK $s $g " . scalar(@acks);
	} elsif ($r < 0.72) {
		my $approx = rand() < 0.5;
		if (rand() < 0.5) {
			my $len = int rand(@ids + 1);
			removed($s, 'trim', cmd('XTRIM', $s, 'MAXLEN', ($approx ? ('~') : ()), $len));
			$desc = "XTRIM $s MAXLEN " . ($approx ? '~ ' : '') . $len;
		} else {
			my $id = $ids[int rand @ids];
			removed($s, 'trim', cmd('XTRIM', $s, 'MINID', ($approx ? ('~') : ()), $id));
			$desc = "XTRIM $s MINID " . ($approx ? '~ ' : '') . $id;
		}
	} elsif ($r < 0.80) {
		my $id = $ids[int rand @ids];
		removed($s, 'xdel', cmd('XDEL', $s, $id));
		$desc = "XDEL $s $id";
	} elsif ($r < 0.88 && @groups) {
		my $g = $groups[int rand @groups];
		my $to = rand() < 0.2 ? '$' : rand() < 0.2 ? '0' : $ids[int rand @ids];
		cmd('XGROUP', 'SETID', $s, $g, $to);
		$m->set_group($g, $to);
		$desc = "XGROUP SETID $s $g $to";
	} elsif ($r < 0.94 && @groups < 4) {
		my $g = 'g' . scalar(@groups);
		my $at = rand() < 0.3 ? '0' : $ids[int rand @ids];
		cmd('XGROUP', 'CREATE', $s, $g, $at);
		$m->set_group($g, $at);
		$desc = "XGROUP CREATE $s $g $at";
	} else {
		# Keep streams to a few hundred entries.
		removed($s, 'trim', cmd('XTRIM', $s, 'MAXLEN', '~', 200));
		$desc = "XTRIM $s MAXLEN ~ 200";
	}
	return $desc;
}

sub show { return defined $_[0] ? $_[0] : 'nil' }

# The model against the server: ids, groups, last-delivered-ids, lags.
# Returns the server's groups of the stream.
sub check_model {
	my ($s, $label) = @_;
	my $m = $model{$s};
	my $groups = groups_of($s);
	my @why = splice @model_errors;
	push @why, "ids differ from XRANGE"
	    if join(' ', @{ ids_of($s) }) ne join(' ', @{ $m->ids });
	push @why, "groups " . join(',', map { $_->{name} } @$groups) . " != "
	    . join(',', sort $m->group_names)
	    if join(',', sort map { $_->{name} } @$groups) ne join(',', sort $m->group_names);
	for my $g (@$groups) {
		my $mg = $m->group($g->{name}) or next;
		my ($lag, $tu) = $m->expect($g->{name});
		my $truth = $m->truth($g->{name});
		push @why, "$g->{name} last-delivered-id $g->{'last-delivered-id'} != $mg->{last}"
		    if $g->{'last-delivered-id'} ne $mg->{last};
		push @why, "$g->{name} lag " . show($g->{lag}) . " != " . show($lag)
		    if show($g->{lag}) ne show($lag);
		# The two halves of the definition agree: Redis's lag less the
		# entries left is the count of entries removed before delivery.
		push @why, "$g->{name} Redis lag $g->{lag} - truth $truth != removed $tu"
		    if defined $g->{lag} && $g->{lag} - $truth != $tu;
	}
	print "# $label: model of $s: $_\n" for @why;
	ok(!@why, "$label: the model of $s matches the server");
	return $groups;
}

# One group of one answer against the model; returns the mismatches.
sub check_group {
	my ($s, $g, $e, $inexact) = @_;
	my $m = $model{$s};
	my $name = $g->{name};
	my $truth = $m->truth($name);
	my ($rlag, $tu) = $m->expect($name);
	$tu = 0 unless defined $rlag;
	my $xp = cmd('XPENDING', $s, $name);
	printf "# trace %s %s: lag %d..%s exact %s trimmed_unread %d; model truth %d, "
	    . "Redis lag %s, entries-read %s, last %s, XLEN %d, first %s\n", $s, $name,
	    $e->{lag}, show($e->{lag_max}), $e->{lag_exact} ? 'true' : 'false',
	    $e->{trimmed_unread}, $truth, show($g->{lag}), show($g->{'entries-read'}),
	    $g->{'last-delivered-id'}, scalar(@{ $m->ids }), $m->ids->[0] // '-'
	    if ($ENV{SL_DIFF_TRACE} // '') eq "$s $name";
	my $why = '';
	$why .= " pending $e->{pending} != XPENDING $xp->[0];"
	    if $e->{pending} != $xp->[0];
	if ($e->{lag_exact}) {
		$why .= " exact lag $e->{lag} != $truth;" if $e->{lag} != $truth;
		$why .= " trimmed_unread $e->{trimmed_unread} != $tu (model);"
		    if $e->{trimmed_unread} != $tu;
	} else {
		$$inexact++;
		printf "# %s %s inexact: lag %d..%s, truth %d, Redis lag %s\n", $s,
		    $name, $e->{lag}, show($e->{lag_max}), $truth, show($g->{lag})
		    if $ENV{SL_DIFF_VERBOSE};
		$why .= " truth $truth below lag $e->{lag};" if $truth < $e->{lag};
		$why .= " truth $truth above lag_max $e->{lag_max};"
		    if defined $e->{lag_max} && $truth > $e->{lag_max};
		$why .= " trimmed_unread $e->{trimmed_unread} while inexact;"
		    if $e->{trimmed_unread} != 0;
	}
	return $why if $why eq '';
	my $mg = $m->group($name);
	return "$why (last $g->{'last-delivered-id'}, Redis lag " . show($g->{lag})
	    . ", entries-read " . show($g->{'entries-read'}) . ", model: "
	    . "entries-read " . show($mg->{read}) . ", removed before delivery "
	    . "$mg->{removed} of which XDEL $mg->{removed_by_xdel}, XLEN "
	    . scalar(@{ $m->ids }) . ", first " . ($m->ids->[0] // '-') . ")";
}

# One request; checks every group; returns how many were inexact.
sub check {
	my ($label) = @_;
	my $one = ++$nreq % 2 == 0;
	$label .= $one ? ' ?group=g0' : ' ?group=*';
	my $res = $http->get($url . ($one ? '?group=g0' : '?group=*'),
	    { headers => { Authorization => "Bearer $token" } });
	return -1 unless ok($res->{status} == 200, "$label: 200")
	    || (print("# $res->{status} $res->{content}\n") && 0);
	my $body = decode_json($res->{content});
	my ($inexact, $bad) = (0, 0);
	for my $s (@STREAMS) {
		for my $g (@{ check_model($s, $label) }) {
			next if $one && $g->{name} ne 'g0';
			my $e = $one ? $body->{streams}{$s}
			    : $body->{streams}{$s}{groups}{ $g->{name} };
			my $why = $e ? check_group($s, $g, $e, \$inexact)
			    : ' missing from the answer';
			next if $why eq '';
			$bad++;
			print "# $label: $s $g->{name}:$why\n";
		}
	}
	ok($bad == 0, "$label: every group matches the model");
	return $inexact;
}

my ($exact_seen, $inexact_seen) = (0, 0);
for my $i (1 .. $steps) {
	my $desc = step();
	my $inx = check("step $i ($desc)");
	$inexact_seen += $inx if $inx > 0;
	last if $failed > 5;
	if ($i % $CHECK_EVERY == 0) {
		my ($q, $longest, $all, $g0) = (0, 0, -1, -1);
		for my $s (@STREAMS) {
			my $len = cmd('XLEN', $s);
			$longest = $len if $len > $longest;
		}
		my $quiet_max = 2 + int(($longest + $cstep - 1) / $cstep);
		# Exact in a ?group=* answer and in a ?group=g0 one, each kind
		# within $quiet_max of its own.
		while (($all != 0 || $g0 != 0) && $q < 2 * $quiet_max) {
			my $left = check("step $i, quiet request " . ++$q);
			if ($nreq % 2 == 0) {
				$g0 = $left;
			} else {
				$all = $left;
			}
		}
		ok($all == 0 && $g0 == 0, "step $i: every group exact after $q "
		    . "quiet requests of both kinds (longest stream $longest, "
		    . "at most $quiet_max of each)");
	}
}
print "# seed $seed, $steps steps, inexact answers seen: $inexact_seen\n";
exit($failed ? 1 : 0);
