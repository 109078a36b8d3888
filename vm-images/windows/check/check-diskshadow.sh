#!/usr/bin/env bash
# check-diskshadow.sh FILE...: every line of a diskshadow script must be
# blank, a "#" comment, or a known diskshadow command with a known
# sub-command (the command table of Microsoft's diskshadow reference,
# see docs/lab-setup.md; "add shadow" and "resync", which that table
# lacks, as Microsoft's VSS team documented them for LUN resync).  It
# checks verbs and their fixed keywords only, not the arguments' values.
# Prints "FILE:LINE: why" for each unknown line and exits 1 if any.
set -u
rc=0
for f in "$@"; do
	n=0
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		line=${line%$'\r'}
		l=$(printf '%s' "$line" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//' | tr 'A-Z' 'a-z')
		case $l in "" | "#"*) continue ;; esac
		read -r verb sub rest <<<"$l"
		bad=
		case $verb in
		set) case $sub in context | option | metadata | verbose) ;; *) bad="set $sub" ;; esac ;;
		add) case $sub in volume | alias) ;; shadow) [ -n "$rest" ] || bad="add shadow needs a shadow id or alias" ;; *) bad="add $sub" ;; esac ;;
		begin | end) case $sub in backup | restore) ;; *) bad="$verb $sub" ;; esac ;;
		load) [ "$sub" = metadata ] || bad="load $sub" ;;
		writer) case $sub in verify | exclude) ;; *) bad="writer $sub" ;; esac ;;
		list) case $sub in writers | shadows | providers) ;; *) bad="list $sub" ;; esac ;;
		delete) [ "$sub" = shadows ] || bad="delete $sub" ;;
		simulate) [ "$sub" = restore ] || bad="simulate $sub" ;;
		create | import | reset | exit) [ -z "$sub" ] || bad="$verb takes no argument here: $sub" ;;
		resync) for o in $sub $rest; do
			case $o in novolcheck | revert_originalsig) ;; *) bad="resync option $o" ;; esac
		done ;;
		expose | unexpose | mask | break | revert | exec | active) [ -n "$sub" ] || bad="$verb needs an argument" ;;
		*) bad="unknown command '$verb'" ;;
		esac
		if [ -n "$bad" ]; then
			echo "$f:$n: $bad: $line"
			rc=1
		fi
	done <"$f"
done
exit $rc
