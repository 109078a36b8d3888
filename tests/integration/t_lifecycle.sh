#!/usr/bin/env bash
# shellcheck disable=SC2119 # start_daemon takes optional extra daemon options
# Every object's lifecycle through arrayctl: LUNs, hosts, maps, snapshots
# (one LUN, and a 3-LUN set), clone, revert, diff, and the teardown.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

# ---- help: the tool and every command, no daemon needed
ok "arrayctl --help" "$ARRAYCTL" --help
nohelp=""
for cmd in "lun create" "lun list" "lun show" "lun delete" "lun resize" "host create" \
	"host list" "host delete" "host add-iqn" "host remove-iqn" "host set-chap" map unmap \
	"map list" "snapshot create" "snapshot list" "snapshot delete" clone revert diff status \
	"session list" "fault delay" "fault fail" "fault drop-connections" "fault lun-offline" \
	"fault lun-online" "fault list" "fault clear" audit version; do
	# shellcheck disable=SC2086 # cmd is one or two words
	if ! "$ARRAYCTL" $cmd --help 2>/dev/null | grep -q "^usage: arrayctl \[GLOBAL OPTIONS\] $cmd"; then
		nohelp="$nohelp [$cmd]"
	fi
done
is "every command has its own --help" "$nohelp" ""
ko "an unknown command is a usage error" 'unknown command' "$ARRAYCTL" frobnicate
ko "an unknown subcommand is a usage error" 'unknown subcommand' "$ARRAYCTL" lun frob

start_daemon

# ---- LUNs
ok "lun create db1 --size 10G" ctl lun create db1 --size 10G
ok "lun create db2 --size 512M --block-size 4096" ctl lun create db2 --size 512M --block-size 4096
ok "lun create db3 --size 1T (thin, pool is 4G)" ctl lun create db3 --size 1T
ko "lun create of an existing name fails with EEXIST" '^arrayctl: lun create: EEXIST: ' \
	ctl lun create db1 --size 1G
ko "lun create --size 10Q is a usage error" 'bad size' ctl lun create x --size 10Q
ko "lun create --block-size 1024 is a usage error" 'block-size' \
	ctl lun create x --size 1G --block-size 1024
list=$(ctl lun list || true)
is "lun list: db1 is 10G" "$(echo "$list" | col db1 2)" 10G
is "lun list: db2 has 4096-byte blocks" "$(echo "$list" | col db2 3)" 4096
is "lun list: db3 is 1T" "$(echo "$list" | col db3 2)" 1T
is "lun list: three LUNs" "$(echo "$list" | tail -n +2 | wc -l)" 3
show=$(ctl lun show db1 || true)
serial=$(echo "$show" | awk '$1 == "Serial:" { print $2 }' || true)
naa=$(echo "$show" | awk '$1 == "NAA:" { print $2 }' || true)
is "lun show by serial finds db1" "$(ctl lun show "$serial" | awk '$1 == "Name:" { print $2 }')" db1
is "lun show by naa.<id> finds db1" "$(ctl lun show "$naa" | awk '$1 == "Name:" { print $2 }')" db1
is "lun show --json: name" "$(ctl --json lun show db1 | jfield name)" db1
ko "lun show of a missing LUN fails with ENOENT" 'ENOENT' ctl lun show nope
ok "lun resize db1 --size 20G" ctl lun resize db1 --size 20G
is "lun show: db1 is now 20G" "$(ctl lun show db1 | awk '$1 == "Size:" { print $2 }')" 20G
ko "lun resize to a smaller size fails with EINVAL" 'EINVAL' ctl lun resize db1 --size 1G

# ---- hosts
IQN1=iqn.1991-05.com.microsoft:h1
ok "host create h1 --iqn $IQN1" ctl host create h1 --iqn $IQN1
ok "host add-iqn h1 $IQN1-b" ctl host add-iqn h1 $IQN1-b
ok "host add-iqn h1 $IQN1-c" ctl host add-iqn h1 $IQN1-c
ok "host remove-iqn h1 $IQN1-c" ctl host remove-iqn h1 $IQN1-c
is "host list: h1 has two IQNs" "$(ctl host list | col h1 2)" "$IQN1,$IQN1-b"
ko "host create with an IQN already in use fails with EEXIST" 'EEXIST' \
	ctl host create h2 --iqn $IQN1
ok "host set-chap h1 --user u1 --secret (one-way)" \
	ctl host set-chap h1 --user u1 --secret s3cret-s3cret
ok "host set-chap h1 with mutual CHAP" ctl host set-chap h1 --user u1 --secret s3cret-s3cret \
	--mutual-user array1 --mutual-secret other-s3cret-x
is "host list: CHAP user u1, mutual user array1" "$(ctl host list | col h1 3)/$(ctl host list | col h1 4)" \
	"u1/array1"
is "secrets never leave the array (host list --json)" \
	"$(ctl --json host list | grep -c s3cret || true)" 0

# ---- maps
ok "map db1 h1" ctl map db1 h1
ok "map db2 h1 --lun 7" ctl map db2 h1 --lun 7
maps=$(ctl map list || true)
is "map list: db1 -> h1 as LUN 0" "$(echo "$maps" | col db1 3)" 0
is "map list: db2 -> h1 as LUN 7" "$(echo "$maps" | col db2 3)" 7
ko "map to a LUN number in use fails with EEXIST" 'EEXIST' ctl map db3 h1 --lun 7
ko "lun delete of a mapped LUN fails with EBUSY" 'EBUSY' ctl lun delete db1
ko "host delete of a mapped host fails with EBUSY" 'EBUSY' ctl host delete h1

# ---- snapshots
ok "snapshot create db1 --name s1" ctl snapshot create db1 --name s1
is "snapshot list db1: s1, origin db1" "$(ctl snapshot list db1 | col s1 2)" db1
set_json=$(ctl --json snapshot create db1 db2 db3 --name g1 || true)
set_id=$(echo "$set_json" | jfield snapset_id | sed -n 1p || true)
is "snapshot create of 3 LUNs makes g1-db1 g1-db2 g1-db3" \
	"$(echo "$set_json" | jfield name | sort | tr '\n' ' ')" "g1-db1 g1-db2 g1-db3 "
in_set=$(ctl --json snapshot list --set "$set_id" || true)
is "snapshot list --set: three snapshots in the set" "$(echo "$in_set" | jfield snapset_id | wc -l)" 3
is "the three share one set id" "$(echo "$in_set" | jfield snapset_id | sort -u | wc -l)" 1
is "the three have one created time (one commit)" \
	"$(echo "$in_set" | jfield created_ns | sort -u | wc -l)" 1
ok "a snapshot can be mapped (read-only LUN)" ctl map g1-db2 h1
ok "and unmapped" ctl unmap g1-db2 h1

# ---- diff: write into db1 offline with the pool tool, then compare
if stop_daemon; then pass "SIGTERM: daemon exited 0"; else fail "SIGTERM: daemon exit status"; fi
ok "arraysim-pool writes 128K into db1 at 1M (daemon stopped)" \
	"$POOLTOOL" write "$DATA/pool.img" db1 --offset 1M --pattern 7 --length 128K
start_daemon
d=$(ctl --json diff s1 db1 || true)
is "diff s1 db1 (live LUN): one extent" "$(echo "$d" | jfield extent_count)" 1
is "diff s1 db1: at offset 1M" "$(echo "$d" | jfield offset)" 1048576
is "diff s1 db1: 128K changed" "$(echo "$d" | jfield changed_bytes)" 131072
is "diff s1 g1-db1 (snapshot to snapshot, both before the write): nothing" \
	"$(ctl --json diff s1 g1-db1 | jfield extent_count)" 0
ok "snapshot create db1 --name s2 (after the write)" ctl snapshot create db1 --name s2
is "diff s1 s2: one extent" "$(ctl --json diff s1 s2 | jfield extent_count)" 1
ok "diff table output" ctl diff s1 s2

# ---- clone, revert
ok "clone s2 c1" ctl clone s2 c1
cl=$(ctl lun show c1 || true)
is "lun show c1: clone of s2" "$(echo "$cl" | awk '$1 == "Clone" { print $3 }')" s2
is "lun show c1: flags thin,clone" "$(echo "$cl" | awk '$1 == "Flags:" { print $2 }')" thin,clone
is "diff s1 c1: the clone has s2's content" "$(ctl --json diff s1 c1 | jfield extent_count)" 1
ok "revert db1 s1" ctl revert db1 s1
is "diff s1 db1 after revert: nothing" "$(ctl --json diff s1 db1 | jfield extent_count)" 0
is "revert: db1 has the snapshot's size (20G)" \
	"$(ctl lun show db1 | awk '$1 == "Size:" { print $2 }')" 20G

# ---- teardown
ok "snapshot delete s1" ctl snapshot delete s1
ok "snapshot delete --set (the g1 set)" ctl snapshot delete --set "$set_id"
is "snapshot list: only s2 is left" "$(ctl snapshot list | tail -n +2 | awk '{ print $1 }' | tr '\n' ' ')" "s2 "
ko "snapshot delete of a missing snapshot fails with ENOENT" 'ENOENT' ctl snapshot delete s1
ok "unmap db1 h1" ctl unmap db1 h1
ok "unmap db2 h1" ctl unmap db2 h1
is "map list: empty" "$(ctl map list | tail -n +2 | wc -l)" 0
for l in c1 db1 db2 db3; do
	ok "lun delete $l" ctl lun delete $l
done
ok "snapshot delete s2 (after its origin)" ctl snapshot delete s2
ok "host delete h1" ctl host delete h1
is "lun list: empty" "$(ctl lun list | tail -n +2 | wc -l)" 0
is "host list: empty" "$(ctl host list | tail -n +2 | wc -l)" 0
is "session list: the asking arrayctl is the one control session" \
	"$(ctl session list | awk 'NR > 1 { print $2, $4 }' || true)" "control arrayctl"
is "version: server arraysimd, protocol 1" \
	"$(ctl version | awk '$1 == "Server:" { s = $2 } $1 == "Protocol:" { p = $2 } END { print s, p }' || true)" \
	"arraysimd 1"
st=$(ctl status || true)
is "status: 0 LUNs, 0 snapshots" "$(echo "$st" | awk '$1 == "LUNs:" { l = $2 } $1 == "Snapshots:" { s = $2 } END { print l "/" s }')" "0/0"
# AUDIT_READ serves the records kept in memory since the daemon started;
# DIR/audit.log keeps them all.
is "audit.log: every lun create was recorded" "$(grep -c '"op":"LUN_CREATE"' "$DATA/audit.log")" 4
is "audit (since the restart): the clone is there" "$(ctl --json audit | grep -c '"op": "clone"')" 1
ok "audit --from 2 --max 3 (table)" ctl audit --from 2 --max 3
is "audit --max 3 returns 3 records" "$(ctl --json audit --max 3 | grep -c '"seq"')" 3
finish
