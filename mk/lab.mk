# The Windows lab: the provider's MSI (provider/win/installer/) and the
# Windows Server guest files (vm-images/windows/).  See docs/lab-setup.md.
#
#   make msi        build/win/arraysim-vss.msi with wixl (needs `make provider`)
#   make check-msi  build it, then check its tables and rows with msiinfo
#   make check-lab  validate the lab files: domain XML against libvirt's
#                   schema, autounattend.xml and the .wxs well-formed,
#                   shell syntax, PowerShell through the tree-sitter
#                   grammar, diskshadow verbs
#   make check-msi-wine  run the reg tool and install/uninstall the MSI
#                   under Wine, with tests/wine/fakevss (a test double of
#                   the VSS coordinator's IVssAdmin) standing in for VSS
#
# Nothing here runs Windows: that needs a Windows Server guest.

MSI := $(BUILD)/win/arraysim-vss.msi
WXS := provider/win/installer/arraysim-vss.wxs
WINLAB := vm-images/windows
LAB_PS := $(wildcard $(WINLAB)/*.ps1) $(wildcard provider/win/installer/*.ps1)
LAB_SH := $(wildcard $(WINLAB)/*.sh $(WINLAB)/check/*.sh) provider/win/installer/check-msi.sh \
	  provider/win/installer/check-msi-wine.sh
LAB_DSH := $(wildcard $(WINLAB)/*.dsh)
# the PowerShell grammar (npm), pinned, kept under build/
PSCHECK_DIR := $(BUILD)/pscheck
PSCHECK_PKGS := tree-sitter@0.25.1 tree-sitter-powershell@0.26.4

.PHONY: msi check-msi check-lab

# wixl resolves File/@Source relative to the current directory, so the
# source directory is passed relative to the top of the tree
msi: provider
	@$(MAKE) --no-print-directory $(MSI)

$(MSI): $(WXS) provider/win/installer/add-rollback.sh $(BUILD)/win/arraysim-vss.dll $(BUILD)/win/arraysim-vss-reg.exe
	@mkdir -p $(dir $@)
	wixl -a x64 -D BinDir=$(BUILD)/win -o $@.tmp $(WXS)
	bash provider/win/installer/add-rollback.sh $@.tmp
	mv $@.tmp $@

check-msi: msi
	@bash provider/win/installer/check-msi.sh $(MSI)

$(PSCHECK_DIR)/.stamp:
	@mkdir -p $(PSCHECK_DIR)
	@echo "check-lab: installing the PowerShell grammar ($(PSCHECK_PKGS)) from npm into $(PSCHECK_DIR)"
	cd $(PSCHECK_DIR) && npm install --no-audit --no-fund --no-save --loglevel=error $(PSCHECK_PKGS)
	@touch $@

check-lab: $(PSCHECK_DIR)/.stamp
	@echo "== domain.xml and network.xml against libvirt's schemas"
	virt-xml-validate $(WINLAB)/domain.xml domain
	virt-xml-validate $(WINLAB)/network.xml network
	@echo "== well-formed XML"
	xmllint --noout $(WINLAB)/autounattend.xml $(WXS)
	@echo "== shell syntax"
	@for f in $(LAB_SH); do bash -n $$f || exit 1; echo "ok: $$f"; done
	@echo "== checkers reject known-bad input (so a pass means something)"
	@t=$$(mktemp -d) && trap 'rm -rf $$t' EXIT && \
	  printf 'set context persistent\ncreat\n' >$$t/bad.dsh && \
	  printf 'function f { if ($$x) { "a" }\n' >$$t/bad.ps1 && \
	  if bash $(WINLAB)/check/check-diskshadow.sh $$t/bad.dsh >/dev/null; then \
	    echo "FAIL: check-diskshadow accepted an unknown verb"; exit 1; fi && \
	  if NODE_NO_WARNINGS=1 node $(WINLAB)/check/check-ps.mjs $(PSCHECK_DIR) $$t/bad.ps1 >/dev/null 2>&1; then \
	    echo "FAIL: check-ps accepted an unbalanced brace"; exit 1; fi && \
	  echo "ok: both checkers refuse bad input"
	@echo "== PowerShell (tree-sitter-powershell grammar)"
	@NODE_NO_WARNINGS=1 node $(WINLAB)/check/check-ps.mjs $(PSCHECK_DIR) $(LAB_PS)
	@echo "== diskshadow verbs"
	@bash $(WINLAB)/check/check-diskshadow.sh $(LAB_DSH) && for f in $(LAB_DSH); do echo "ok: $$f"; done
	@echo "check-lab: ok"

# the VSS coordinator test double (in-process COM, IVssAdmin only)
FAKEVSS := $(BUILD)/win/fakevss.dll
$(FAKEVSS): tests/wine/fakevss/fakevss.c tests/wine/fakevss/fakevss.def
	@mkdir -p $(dir $@)
	$(WIN_CC) -std=c11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	  -D_WIN32_WINNT=0x0601 -DUNICODE -D_UNICODE -shared -static-libgcc \
	  -Wl,--no-insert-timestamp -o $@ $^ -lole32 -ladvapi32 -luuid

.PHONY: check-msi-wine
check-msi-wine: msi $(FAKEVSS)
	@bash provider/win/installer/check-msi-wine.sh $(MSI) $(FAKEVSS) $(BUILD)/win/arraysim-vss-reg.exe

CHECK_TARGETS += check-lab check-msi check-msi-wine
