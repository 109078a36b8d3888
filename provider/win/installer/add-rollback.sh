#!/usr/bin/env bash
# Add the rollback custom actions that wixl cannot express to a built MSI
# (wixl 0.101 turns Execute="rollback" into an ordinary action).
#
# Windows Installer runs a rollback action, in reverse order, only when a
# later step of the same install fails; it must be sequenced before the
# action it undoes (msidbCustomActionTypeRollback = 0x100 on the type of
# the deferred action it mirrors).  Without them a failed install (e.g.
# RegisterVss refused on a client OS) left the COM class of the removed
# DLL behind, and a failed uninstall left the provider half-unregistered.
#
# Usage: add-rollback.sh PACKAGE.msi
set -euo pipefail
msi=${1:?usage: add-rollback.sh PACKAGE.msi}

ROLLBACK=256           # msidbCustomActionTypeRollback
EXE_FILE=$((3090))     # deferred, no impersonation, exe from an installed file
EXE_PROP=$((3122))     # the same, exe path in a property (REGSVR32)
q() { msibuild "$msi" -q "$1"; }

# install: undo COM and VSS registration (RegisterCom 4030, RegisterVss 4040)
q "INSERT INTO CustomAction (Action, Type, Source, Target) VALUES ('RollbackRegisterCom', $((EXE_PROP + ROLLBACK)), 'REGSVR32', '/u /s \"[#ArraysimVssDll]\"')"
q "INSERT INTO CustomAction (Action, Type, Source, Target) VALUES ('RollbackRegisterVss', $((EXE_FILE + ROLLBACK)), 'ArraysimVssRegExe', 'unregister')"
q "INSERT INTO InstallExecuteSequence (Action, Condition, Sequence) VALUES ('RollbackRegisterCom', 'NOT REMOVE~=\"ALL\"', 4029)"
q "INSERT INTO InstallExecuteSequence (Action, Condition, Sequence) VALUES ('RollbackRegisterVss', 'NOT REMOVE~=\"ALL\"', 4039)"
# uninstall: re-register what UnregisterVss (3410) / UnregisterCom (3420) undid
q "INSERT INTO CustomAction (Action, Type, Source, Target) VALUES ('RollbackUnregisterVss', $((EXE_FILE + ROLLBACK)), 'ArraysimVssRegExe', 'register')"
q "INSERT INTO CustomAction (Action, Type, Source, Target) VALUES ('RollbackUnregisterCom', $((EXE_PROP + ROLLBACK)), 'REGSVR32', '/s \"[#ArraysimVssDll]\"')"
q "INSERT INTO InstallExecuteSequence (Action, Condition, Sequence) VALUES ('RollbackUnregisterVss', 'REMOVE~=\"ALL\"', 3409)"
q "INSERT INTO InstallExecuteSequence (Action, Condition, Sequence) VALUES ('RollbackUnregisterCom', 'REMOVE~=\"ALL\"', 3419)"
