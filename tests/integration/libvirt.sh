# shellcheck shell=bash
# A private libvirt for the tests (sourced after tests/integration/lib.sh):
# virtlogd and a session libvirtd run as the unprivileged user "nobody",
# with HOME and the XDG directories in $LV (inside the test's $WORK), so
# no system configuration is read or changed and no other libvirtd is
# touched.  lv_start starts both, V runs virsh against them, lv_stop stops
# them (and a domain's QEMU, which outlives its libvirtd), lv_pool_xml
# writes an iscsi-direct pool definition.  Used by tests/iscsi/t_libvirt.sh
# and tests/vm/t_libvirt.sh.

LV=$WORK/libvirt
LVD=
VLOGD=
LV_DOMAIN= # a domain name lv_stop destroys first, if set

for _t in libvirtd virtlogd virsh setpriv; do
	command -v $_t >/dev/null || PATH=$PATH:/usr/sbin
done

# env and setpriv exec, so "${LV_AS_NOBODY[@]}" daemon & gives the
# daemon's own pid in $! (a shell function would put a subshell there);
# LIBVIRT_AUTOSTART=0: virsh must never spawn a libvirtd of its own
LV_AS_NOBODY=(env LIBVIRT_AUTOSTART=0 HOME="$LV/home" XDG_RUNTIME_DIR="$LV/xdg"
	XDG_CONFIG_HOME="$LV/home/.config" XDG_CACHE_HOME="$LV/home/.cache"
	setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups)

V() { "${LV_AS_NOBODY[@]}" virsh -c qemu:///session "$@"; }

# lv_start: 0 when the private libvirtd answers
lv_start() {
	local t
	for t in libvirtd virtlogd virsh setpriv; do
		command -v $t >/dev/null || { fail "$t not installed (make deps)"; return 1; }
	done
	mkdir -p "$LV/xdg" "$LV/home"
	chmod 755 "$WORK"
	chown -R nobody "$LV"
	chmod 700 "$LV/xdg"
	"${LV_AS_NOBODY[@]}" virtlogd >"$WORK/virtlogd.log" 2>&1 &
	VLOGD=$!
	BG_PIDS+=("$VLOGD")
	for _ in $(seq 100); do
		[ -S "$LV/xdg/libvirt/virtlogd-sock" ] && break
		sleep 0.05
	done
	"${LV_AS_NOBODY[@]}" libvirtd >"$WORK/libvirtd.log" 2>&1 &
	LVD=$!
	BG_PIDS+=("$LVD")
	for _ in $(seq 100); do
		V version >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "private libvirtd does not answer"
	tail -20 "$WORK/libvirtd.log"
	return 1
}

# lv_stop: 0 when libvirtd and virtlogd are gone
lv_stop() {
	local p
	if [ -n "$LV_DOMAIN" ] && [ -n "$LVD" ] && kill -0 "$LVD" 2>/dev/null; then
		V destroy "$LV_DOMAIN" >/dev/null 2>&1 || true
	fi
	if [ -n "$LV_DOMAIN" ]; then
		p=$(cat "$LV/xdg/libvirt/qemu/run/$LV_DOMAIN.pid" 2>/dev/null || true)
		[ -n "$p" ] && kill -KILL "$p" 2>/dev/null || true
	fi
	for p in $LVD $VLOGD; do
		term_wait "$p"
	done
	for p in $LVD $VLOGD; do
		kill -0 "$p" 2>/dev/null && return 1
	done
	return 0
}

# lv_pool_xml FILE PORTAL_PORT TARGET_IQN INITIATOR_IQN: pool "arraysim"
lv_pool_xml() {
	cat >"$1" <<XML
<pool type='iscsi-direct'>
  <name>arraysim</name>
  <source>
    <host name='127.0.0.1' port='$2'/>
    <device path='$3'/>
    <initiator><iqn name='$4'/></initiator>
  </source>
</pool>
XML
	chmod 644 "$1"
}
