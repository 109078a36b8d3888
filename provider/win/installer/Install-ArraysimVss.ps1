<#
.SYNOPSIS
  Install or remove the arraysim VSS hardware provider without the MSI.

.DESCRIPTION
  Install (default), as an administrator on 64-bit Windows Server:
    1. copies arraysim-vss.dll and arraysim-vss-reg.exe from -SourceDir to
       -InstallDir (default: C:\Program Files\arraysim\VSS Provider);
    2. with -ArrayAddress and -KeyFile: arraysim-vss-reg.exe config, which
       stores address, port and the key (DPAPI-protected) in
       HKLM\SOFTWARE\arraysim\VssProvider (first, so that a bad key file
       fails before anything is registered);
    3. regsvr32 /s arraysim-vss.dll: DllRegisterServer writes the COM class,
       its AppID with DllSurrogate (VSS activates the provider out of
       process, in dllhost.exe) and the event-log source arraysim-vss;
    4. arraysim-vss-reg.exe register: IVssAdmin::RegisterProvider as
       VSS_PROV_HARDWARE;
    5. checks that `vssadmin list providers` lists the provider.
  -Uninstall: unregister from VSS, regsvr32 /u, remove the files.
  -WhatIf shows each step without doing it.

.EXAMPLE
  .\Install-ArraysimVss.ps1 -SourceDir D:\ -ArrayAddress 192.168.133.1 -KeyFile D:\control.key
.EXAMPLE
  .\Install-ArraysimVss.ps1 -Uninstall
#>
[CmdletBinding(SupportsShouldProcess = $true)]
param(
    [string] $SourceDir = $PSScriptRoot,
    [string] $InstallDir = (Join-Path $env:ProgramFiles 'arraysim\VSS Provider'),
    [string] $ArrayAddress,
    [ValidateRange(1, 65535)] [int] $ArrayPort = 3270,
    [string] $KeyFile,
    [string] $InitiatorIqn,
    [string] $TraceFile,
    [switch] $Uninstall
)
$ErrorActionPreference = 'Stop'
$ProviderName = 'arraysim VSS Hardware Provider'
$Dll = 'arraysim-vss.dll'
$RegTool = 'arraysim-vss-reg.exe'
$Regsvr32 = Join-Path $env:SystemRoot 'System32\regsvr32.exe'

function Fail([string] $Message) {
    Write-Error "Install-ArraysimVss: $Message" -ErrorAction Continue
    exit 1
}

# Run an executable; a non-zero exit code is an error unless -AllowFail.
function Invoke-Step([string] $What, [string] $Exe, [string[]] $Arguments, [switch] $AllowFail) {
    if (-not $PSCmdlet.ShouldProcess("$Exe $($Arguments -join ' ')", $What)) { return }
    $p = Start-Process -FilePath $Exe -ArgumentList $Arguments -Wait -PassThru -NoNewWindow
    if ($p.ExitCode -ne 0) {
        if ($AllowFail) { Write-Warning "${What}: exit code $($p.ExitCode) (ignored)"; return }
        Fail "$What failed: $Exe exited with $($p.ExitCode)"
    }
    Write-Verbose "${What}: ok"
}

# Preconditions: admin, 64-bit PowerShell, Windows Server.
$id = [Security.Principal.WindowsIdentity]::GetCurrent()
if (-not ([Security.Principal.WindowsPrincipal]$id).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    Fail 'run this from an elevated (Administrator) PowerShell'
}
if (-not [Environment]::Is64BitProcess) {
    Fail 'run the 64-bit PowerShell: the provider is a 64-bit COM server (VSS does not load WOW64 providers)'
}
$os = Get-CimInstance -ClassName Win32_OperatingSystem
if ($os.ProductType -eq 1 -and -not $Uninstall) {
    Fail "this is a client Windows ($($os.Caption)): VSS registers hardware providers only on Windows Server"
}

$dllPath = Join-Path $InstallDir $Dll
$regPath = Join-Path $InstallDir $RegTool

if ($Uninstall) {
    if (Test-Path -LiteralPath $regPath) {
        Invoke-Step 'unregister from VSS' $regPath @('unregister') -AllowFail
    }
    if (Test-Path -LiteralPath $dllPath) {
        Invoke-Step 'unregister COM' $Regsvr32 @('/u', '/s', "`"$dllPath`"") -AllowFail
    }
    if ((Test-Path -LiteralPath $InstallDir) -and $PSCmdlet.ShouldProcess($InstallDir, 'remove')) {
        # dllhost may still hold the DLL for a few seconds after VSS used it
        for ($i = 0; $i -lt 10; $i++) {
            try { Remove-Item -LiteralPath $InstallDir -Recurse -Force; break }
            catch { if ($i -eq 9) { Fail "cannot remove $InstallDir ($_); stop dllhost.exe hosting the provider or reboot" }; Start-Sleep -Seconds 2 }
        }
    }
    Write-Output 'arraysim VSS provider removed'
    exit 0
}

foreach ($f in $Dll, $RegTool) {
    if (-not (Test-Path -LiteralPath (Join-Path $SourceDir $f))) { Fail "$f not found in $SourceDir (build it with: make provider)" }
}
if ($ArrayAddress -xor $KeyFile) { Fail '-ArrayAddress and -KeyFile go together' }
if ($KeyFile -and -not (Test-Path -LiteralPath $KeyFile)) { Fail "key file $KeyFile not found (copy the array's control.key)" }

if ($PSCmdlet.ShouldProcess($InstallDir, 'copy provider files')) {
    New-Item -ItemType Directory -Force -Path $InstallDir | Out-Null
    Copy-Item -LiteralPath (Join-Path $SourceDir $Dll) -Destination $dllPath -Force
    Copy-Item -LiteralPath (Join-Path $SourceDir $RegTool) -Destination $regPath -Force
}
# configure before registering (as the MSI does): a bad key file then
# fails before VSS knows of a provider it could not use
if ($ArrayAddress) {
    $cfgArgs = @('config', '--address', $ArrayAddress, '--port', "$ArrayPort", '--key-file', "`"$KeyFile`"")
    if ($InitiatorIqn) { $cfgArgs += @('--iqn', $InitiatorIqn) }
    if ($TraceFile) { $cfgArgs += @('--trace-file', "`"$TraceFile`"") }
    Invoke-Step 'configure the array address and key' $regPath $cfgArgs
    Write-Output "configured: the key is now stored DPAPI-protected; delete $KeyFile if it is a copy"
}
Invoke-Step 'register COM (DllRegisterServer)' $Regsvr32 @('/s', "`"$dllPath`"")
Invoke-Step 'register with VSS' $regPath @('register')

if ($PSCmdlet.ShouldProcess('vssadmin list providers', 'check')) {
    $list = (& vssadmin.exe list providers) -join "`n"
    if ($list -notmatch [regex]::Escape($ProviderName)) {
        Write-Output $list
        Fail "vssadmin does not list '$ProviderName'; see the Application event log (source arraysim-vss) and '$regPath show'"
    }
    Write-Output "ok: vssadmin lists '$ProviderName'"
}
if ($PSCmdlet.ShouldProcess($regPath, 'show the configuration') -and (Test-Path -LiteralPath $regPath)) {
    & $regPath show
    if ($LASTEXITCODE -ne 0) { Fail "'$regPath show' failed (exit $LASTEXITCODE)" }
}
exit 0
