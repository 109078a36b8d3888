<#
.SYNOPSIS
  First-boot provisioning of the arraysim Windows lab guest.  Run once by
  autounattend.xml (FirstLogonCommands) from the lab media; safe to run
  again by hand:  powershell -ExecutionPolicy Bypass -File D:\provision.ps1 -LabMedia D:\

.DESCRIPTION
  1. copies the lab media to C:\arraysim\lab;
  2. starts the Microsoft iSCSI Initiator service (MSiSCSI), automatic start;
  3. sets the initiator IQN to the one the array knows (lab.json: Iqn);
  4. adds the array's portal with one-way CHAP and logs in to its target,
     persistently (the session comes back after a reboot);
  5. brings the array's disks online, read-write; a new (RAW) disk gets
     GPT, one NTFS partition, and the next letter from E:;
  6. installs the provider MSI with the array address, port and key,
     then deletes the copied key (the provider keeps it DPAPI-protected);
  7. checks that `vssadmin list providers` lists the arraysim provider;
  8. writes sample files to E:\arraysim-lab-data and their manifest.

  lab.json (written by host-setup.sh) holds: ArrayAddress, IscsiPort,
  ControlPort, TargetIqn, Iqn, ChapUser, ChapSecret.  The log is
  C:\arraysim\lab\provision.log.
#>
[CmdletBinding(SupportsShouldProcess = $true)]
param(
    [Parameter(Mandatory = $true)] [string] $LabMedia,
    [string] $LabDir = 'C:\arraysim\lab'
)
$ErrorActionPreference = 'Stop'
$ProviderName = 'arraysim VSS Hardware Provider'

function Step([string] $What) { Write-Output "== $What" }

New-Item -ItemType Directory -Force -Path $LabDir | Out-Null
Start-Transcript -Path (Join-Path $LabDir 'provision.log') -Append | Out-Null
try {
    Step "copy $LabMedia to $LabDir"
    Copy-Item -Path (Join-Path $LabMedia '*') -Destination $LabDir -Recurse -Force
    Get-ChildItem -LiteralPath $LabDir -Recurse -File | ForEach-Object { $_.IsReadOnly = $false }
    $cfgPath = Join-Path $LabDir 'lab.json'
    if (-not (Test-Path -LiteralPath $cfgPath)) { throw "no ${cfgPath}: run host-setup.sh on the Linux host and rebuild the lab media" }
    $cfg = Get-Content -LiteralPath $cfgPath -Raw | ConvertFrom-Json
    foreach ($k in 'ArrayAddress', 'IscsiPort', 'ControlPort', 'TargetIqn', 'Iqn', 'ChapUser', 'ChapSecret') {
        if (-not $cfg.$k) { throw "lab.json: $k is missing" }
    }

    Step 'MSiSCSI: automatic start, running'
    Set-Service -Name MSiSCSI -StartupType Automatic
    Start-Service -Name MSiSCSI

    Step "initiator IQN $($cfg.Iqn)"
    $port = Get-InitiatorPort | Where-Object { $_.ConnectionType -eq 'iSCSI' } | Select-Object -First 1
    if (-not $port) { throw 'no iSCSI initiator port (is MSiSCSI running?)' }
    if ($port.NodeAddress -ne $cfg.Iqn) {
        Set-InitiatorPort -NodeAddress $port.NodeAddress -NewNodeAddress $cfg.Iqn | Out-Null
    }

    Step "portal $($cfg.ArrayAddress):$($cfg.IscsiPort) (one-way CHAP as $($cfg.ChapUser))"
    $chap = @{
        AuthenticationType = 'ONEWAYCHAP'
        ChapUsername       = $cfg.ChapUser
        ChapSecret         = $cfg.ChapSecret
    }
    $portal = Get-IscsiTargetPortal -ErrorAction SilentlyContinue |
        Where-Object { $_.TargetPortalAddress -eq $cfg.ArrayAddress -and $_.TargetPortalPortNumber -eq [int]$cfg.IscsiPort }
    if (-not $portal) {
        New-IscsiTargetPortal -TargetPortalAddress $cfg.ArrayAddress -TargetPortalPortNumber ([int]$cfg.IscsiPort) @chap | Out-Null
    } else {
        Update-IscsiTargetPortal -TargetPortalAddress $cfg.ArrayAddress -TargetPortalPortNumber ([int]$cfg.IscsiPort) | Out-Null
    }
    $target = Get-IscsiTarget | Where-Object { $_.NodeAddress -eq $cfg.TargetIqn }
    if (-not $target) { throw "target $($cfg.TargetIqn) not discovered on $($cfg.ArrayAddress):$($cfg.IscsiPort) (arraysimd listening there? CHAP user/secret as set by host-setup.sh?)" }
    if (-not $target.IsConnected) {
        Step "log in to $($cfg.TargetIqn), persistent"
        Connect-IscsiTarget -NodeAddress $cfg.TargetIqn -TargetPortalAddress $cfg.ArrayAddress `
            -TargetPortalPortNumber ([int]$cfg.IscsiPort) -IsPersistent $true @chap | Out-Null
    }

    Step 'array disks online'
    # the session's LUNs take a moment to surface as disks
    $disks = @()
    for ($i = 0; $i -lt 30 -and $disks.Count -eq 0; $i++) {
        Update-HostStorageCache
        $disks = @(Get-Disk | Where-Object { $_.BusType -eq 'iSCSI' -and $_.FriendlyName -like 'ARRAYSIM*' })
        if ($disks.Count -eq 0) { Start-Sleep -Seconds 2 }
    }
    if ($disks.Count -eq 0) { throw 'no ARRAYSIM disk appeared after login (LUNs mapped to this host? arrayctl map list)' }
    $letters = [System.Collections.Generic.Queue[char]]::new([char[]]'EFGHIJKLMNOPQRSTUVW')
    foreach ($d in $disks | Sort-Object Number) {
        if ($d.IsOffline) { Set-Disk -Number $d.Number -IsOffline $false }
        if ($d.IsReadOnly) { Set-Disk -Number $d.Number -IsReadOnly $false }
        if ($d.PartitionStyle -eq 'RAW') {
            do { $l = $letters.Dequeue() } while (Get-Volume -DriveLetter $l -ErrorAction SilentlyContinue)
            Initialize-Disk -Number $d.Number -PartitionStyle GPT
            New-Partition -DiskNumber $d.Number -UseMaximumSize -DriveLetter $l |
                Format-Volume -FileSystem NTFS -NewFileSystemLabel "arraysim$($d.Number)" -Confirm:$false | Out-Null
            Write-Output "disk $($d.Number) ($($d.SerialNumber)): new NTFS volume $($l):"
        } else {
            Write-Output "disk $($d.Number) ($($d.SerialNumber)): online, kept as it is"
        }
    }

    Step 'install the arraysim VSS provider (MSI)'
    $msi = Join-Path $LabDir 'arraysim-vss.msi'
    $key = Join-Path $LabDir 'control.key'
    if (-not (Test-Path -LiteralPath $msi)) { throw "no $msi on the lab media (make msi; host-setup.sh copies it)" }
    if (-not (Test-Path -LiteralPath $key)) { throw "no $key on the lab media (host-setup.sh copies the array's control.key)" }
    $log = Join-Path $LabDir 'msiexec.log'
    $msiArgs = @('/i', "`"$msi`"", '/qn', '/norestart', '/l*v', "`"$log`"",
        "ARRAY_ADDRESS=$($cfg.ArrayAddress)", "ARRAY_PORT=$($cfg.ControlPort)", "KEY_FILE=`"$key`"")
    if ($PSCmdlet.ShouldProcess($msi, 'msiexec /i')) {
        $p = Start-Process -FilePath msiexec.exe -ArgumentList $msiArgs -Wait -PassThru
        # 3010: success, reboot required
        if ($p.ExitCode -ne 0 -and $p.ExitCode -ne 3010) { throw "msiexec failed with $($p.ExitCode); see $log (search for 'return value 3')" }
    }
    Remove-Item -LiteralPath $key -Force

    Step 'vssadmin list providers'
    $list = (& vssadmin.exe list providers) -join "`n"
    Write-Output $list
    if ($list -notmatch [regex]::Escape($ProviderName)) { throw "vssadmin does not list '$ProviderName' (see the Application event log, source arraysim-vss, and $log)" }

    Step 'sample data and manifest'
    $data = 'E:\arraysim-lab-data'
    if (-not (Test-Path -LiteralPath $data)) {
        New-Item -ItemType Directory -Path $data | Out-Null
        $rng = [System.Security.Cryptography.RandomNumberGenerator]::Create()
        for ($i = 1; $i -le 20; $i++) {
            $buf = New-Object byte[] (64KB * $i)
            $rng.GetBytes($buf)
            [System.IO.File]::WriteAllBytes((Join-Path $data ("file{0:D2}.bin" -f $i)), $buf)
        }
        Write-VolumeCache -DriveLetter E
    }
    & (Join-Path $LabDir 'verify.ps1') -Make -Path $data -Manifest (Join-Path $LabDir 'manifest.csv')
    if ($LASTEXITCODE -ne 0) { throw "verify.ps1 -Make failed ($LASTEXITCODE)" }
    Write-Output 'provision: done.  Next: diskshadow /s C:\arraysim\lab\create.dsh (docs/lab-setup.md)'
} catch {
    Write-Output "provision: FAILED: $_"
    Stop-Transcript | Out-Null
    exit 1
}
Stop-Transcript | Out-Null
exit 0
