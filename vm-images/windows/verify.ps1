<#
.SYNOPSIS
  Make or check a SHA-256 manifest of a directory tree: the lab's proof
  that a shadow copy holds exactly the files of the moment it was taken.

.EXAMPLE
  # before the shadow copy: record E:\arraysim-lab-data
  .\verify.ps1 -Make -Path E:\arraysim-lab-data -Manifest C:\arraysim\lab\manifest.csv
  # after create.dsh exposed the shadow copy as X:
  .\verify.ps1 -Path X:\arraysim-lab-data -Manifest C:\arraysim\lab\manifest.csv

.NOTES
  Exit 0 when every file in the manifest is present with the same hash
  and no file was added; exit 1 otherwise, listing each difference.
  Paths in the manifest are relative to -Path, so the same manifest
  checks the original, the exposed shadow copy (X:), an imported
  transportable copy (Y:) or E: after a resync.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)] [string] $Path,
    [Parameter(Mandatory = $true)] [string] $Manifest,
    [switch] $Make
)
$ErrorActionPreference = 'Stop'

function Get-TreeHashes([string] $Root) {
    $root = (Resolve-Path -LiteralPath $Root).ProviderPath.TrimEnd('\') + '\'
    Get-ChildItem -LiteralPath $root -Recurse -File -Force | Sort-Object FullName | ForEach-Object {
        [pscustomobject]@{
            RelativePath = $_.FullName.Substring($root.Length)
            Length       = $_.Length
            SHA256       = (Get-FileHash -LiteralPath $_.FullName -Algorithm SHA256).Hash
        }
    }
}

if (-not (Test-Path -LiteralPath $Path -PathType Container)) {
    # -ErrorAction Continue: with 'Stop' Write-Error would throw and skip the exit code
    Write-Error "verify: $Path is not a directory (is the shadow copy exposed? diskshadow: list shadows all)" -ErrorAction Continue
    exit 1
}

if ($Make) {
    $rows = @(Get-TreeHashes $Path)
    $rows | Export-Csv -LiteralPath $Manifest -NoTypeInformation -Encoding UTF8
    Write-Output "verify: manifest of $($rows.Count) files written to $Manifest"
    exit 0
}

if (-not (Test-Path -LiteralPath $Manifest)) {
    Write-Error "verify: no manifest $Manifest (make one first with -Make)" -ErrorAction Continue
    exit 1
}
$want = @{}
foreach ($r in Import-Csv -LiteralPath $Manifest) { $want[$r.RelativePath] = $r }
$have = @{}
foreach ($r in Get-TreeHashes $Path) { $have[$r.RelativePath] = $r }

$bad = 0
foreach ($k in $want.Keys) {
    if (-not $have.ContainsKey($k)) {
        Write-Output "MISSING  $k"; $bad++
    } elseif ($have[$k].SHA256 -ne $want[$k].SHA256) {
        Write-Output "CHANGED  $k (expected $($want[$k].SHA256), found $($have[$k].SHA256))"; $bad++
    }
}
foreach ($k in $have.Keys) {
    if (-not $want.ContainsKey($k)) { Write-Output "EXTRA    $k"; $bad++ }
}
if ($bad -gt 0) {
    Write-Output "verify: FAIL: $bad difference(s) between $Path and $Manifest"
    exit 1
}
Write-Output "verify: OK: $($want.Count) files under $Path match $Manifest"
exit 0
