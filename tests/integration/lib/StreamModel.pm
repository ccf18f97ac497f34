# SPDX-License-Identifier: ISC
# The differential test's own model of one stream's history: the ids it
# added, which of them are still there, and, per consumer group, its
# last-delivered-id and how many entries were removed (XTRIM of any form,
# or XDEL) after it, before the group read them.
#
# That count is what docs/lag.md calls trimmed_unread, Redis's lag minus
# the entries really left.  Redis 7.0 and Valkey 8.0 compute their lag as
# entries-added - entries-read, so the two halves of the definition agree
# only while the group's entries-read is a counter of deliveries; once it is
# lost (XGROUP CREATE or SETID without ENTRIESREAD, a read with a deletion
# ahead) the server estimates it again, exactly or not at all, and the
# count starts from 0.  The rules below are those of Redis 7.0.15's
# t_stream.c (streamRangeHasTombstones, streamEstimateDistanceFromFirstEver-
# Entry, streamReplyWithCGLag, the read path), checked on 7.0.15 and Valkey
# 8.0.1 by the test itself at every step.  Servers that re-estimate after
# trims (Redis >= 7.4.4) follow other rules.
package StreamModel;
use strict;
use warnings;
use Exporter qw(import);
our @EXPORT_OK = qw(id_cmp);

sub id_cmp {
	my ($a, $b) = @_;
	my ($am, $as) = split /-/, $a;
	my ($bm, $bs) = split /-/, $b;
	return $am <=> $bm || $as <=> $bs;
}

sub new {
	my ($class) = @_;
	return bless { added => 0, last => '0-0', ids => [], maxdel => '0-0',
	    groups => {}, order => [] }, $class;
}

sub ids { return $_[0]{ids} }
sub group_names { return @{ $_[0]{order} } }
sub group { return $_[0]{groups}{ $_[1] } }
sub last_id { return $_[0]{last} }

sub add {
	my ($m, $id) = @_;
	push @{ $m->{ids} }, $id;
	$m->{added}++;
	$m->{last} = $id;
}

# Is there a deletion at or after START that the server still sees?
sub tombstone_from {
	my ($m, $start) = @_;
	my $ids = $m->{ids};
	return 0 if !@$ids || $m->{maxdel} eq '0-0';
	return 0 if id_cmp($ids->[0], $m->{maxdel}) > 0;
	return id_cmp($start, $m->{maxdel}) <= 0;
}

# The server's estimate of the entries read up to ID, undef when it has none.
sub estimate {
	my ($m, $id) = @_;
	my $ids = $m->{ids};
	my $len = @$ids;
	return 0 unless $m->{added};
	return $m->{added} if !$len && id_cmp($id, $m->{last}) <= 0;
	my $cl = id_cmp($id, $m->{last});
	return $m->{added} if $cl == 0;
	return undef if $cl > 0;
	if ($m->{maxdel} eq '0-0' || id_cmp($m->{maxdel}, $ids->[0]) < 0) {
		my $cf = id_cmp($id, $ids->[0]);
		return $m->{added} - $len if $cf < 0;
		return $m->{added} - $len + 1 if $cf == 0;
	}
	return undef;
}

# XGROUP CREATE and SETID (without ENTRIESREAD): the counter is lost.
sub set_group {
	my ($m, $g, $at) = @_;
	my $id = $at eq '$' ? $m->{last} : $at eq '0' ? '0-0' : $at;
	push @{ $m->{order} }, $g unless $m->{groups}{$g};
	$m->{groups}{$g} = { last => $id, read => undef, removed => 0,
	    removed_by_xdel => 0 };
}

# XREADGROUP GROUP g c COUNT k ... >: returns the ids it must deliver.
sub deliver {
	my ($m, $g, $k) = @_;
	my $gr = $m->{groups}{$g};
	my @out = grep { id_cmp($_, $gr->{last}) > 0 } @{ $m->{ids} };
	splice @out, $k if @out > $k;
	for my $id (@out) {
		if (defined $gr->{read} && !$m->tombstone_from($id)) {
			$gr->{read}++;
		} else {
			$gr->{read} = $m->estimate($id);
			$gr->{removed} = $gr->{removed_by_xdel} = 0;
		}
		$gr->{last} = $id;
	}
	return \@out;
}

# Entries gone, by HOW ('trim' or 'xdel').
sub remove {
	my ($m, $how, @gone) = @_;
	my %gone = map { $_ => 1 } @gone;
	$m->{ids} = [ grep { !$gone{$_} } @{ $m->{ids} } ];
	for my $id (@gone) {
		$m->{maxdel} = $id
		    if $how eq 'xdel' && id_cmp($id, $m->{maxdel}) > 0;
		for my $gr (values %{ $m->{groups} }) {
			next unless defined $gr->{read} && id_cmp($id, $gr->{last}) > 0;
			$gr->{removed}++;
			$gr->{removed_by_xdel}++ if $how eq 'xdel';
		}
	}
}

# Entries after the group's last-delivered-id.
sub truth {
	my ($m, $g) = @_;
	my $last = $m->{groups}{$g}{last};
	return scalar grep { id_cmp($_, $last) > 0 } @{ $m->{ids} };
}

# (the server's lag or undef, the expected trimmed_unread).  Where the
# server answers from its counter, its lag exceeds the truth by exactly the
# entries removed before delivery; where it estimates, the estimate is
# exact and the difference is 0.
sub expect {
	my ($m, $g) = @_;
	my $gr = $m->{groups}{$g};
	return (0, 0) unless $m->{added};
	if (defined $gr->{read} && !$m->tombstone_from($gr->{last})) {
		return ($m->{added} - $gr->{read}, $gr->{removed});
	}
	my $e = $m->estimate($gr->{last});
	return (defined $e ? $m->{added} - $e : undef, 0);
}

1;
