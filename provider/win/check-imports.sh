#!/bin/bash
# check-imports.sh OBJDUMP FILE: fail unless FILE imports only system
# DLLs.  A mingw runtime DLL (libwinpthread-1.dll, libgcc_s_seh-1.dll)
# would be missing on a Windows guest and in dllhost.exe.
set -euo pipefail
objdump=$1
file=$2
allowed='^(kernel32|msvcrt|ole32|oleaut32|advapi32|crypt32|ws2_32|bcrypt|rpcrt4|user32|api-ms-win-[a-z0-9-]+)\.dll$'
bad=0
while read -r dll; do
	if ! [[ ${dll,,} =~ $allowed ]]; then
		echo "check-imports: $file imports $dll, which is not a system DLL" >&2
		bad=1
	fi
done < <("$objdump" -p "$file" | sed -n 's/^[[:space:]]*DLL Name: //p')
exit $bad
