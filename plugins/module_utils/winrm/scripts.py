# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PowerShell the Windows modules run, one script per round trip.

Contract shared by every script (``client.build_script`` adds the first lines):
- line 1 is the marker ``# clustersafe:<name>``, then ``PREAMBLE``; the parameters arrive as JSON in ``$P``;
- the script prints exactly one JSON object (``ConvertTo-Json -Compress -Depth 5``) and nothing else;
- enums are cast with ``[string]`` because Windows PowerShell 5.1 serialises them as numbers;
- a failure is a terminating error (non-zero exit, error text on stderr).

Keep each body well under 3 KB: the encoded command must fit the 8191-character command line.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Prepended once to every script by ``client.build_script`` (the bodies below do not repeat it).
# - Stop: any cmdlet error ends the script with a non-zero exit and the error on stderr.
# - SilentlyContinue progress: in Windows PowerShell 5.1 the progress bar makes Invoke-WebRequest very
#   slow and writes CLIXML progress records to stderr over WinRM.
# - The output encoding is set for non-ASCII names, but [Console]::OutputEncoding can throw "The handle is
#   invalid" in a process without a console; under Stop that would fail every script, so it is guarded.
PREAMBLE = r"""
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
try { [Console]::OutputEncoding = [Text.Encoding]::UTF8 } catch { $null = $_ }
"""

# The agent's entry in the machine's list of installed programs (DisplayName, DisplayVersion, the product code
# as the key name), in $a: one function for the three scripts that look for the agent. Each script that needs
# it is built as body + _AGENT_UNINSTALL_ENTRY + body, so the function is defined where it is used.
_AGENT_UNINSTALL_ENTRY = r"""
function Get-AgentUninstallEntry {
  Get-ItemProperty 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\*' -ErrorAction SilentlyContinue |
    Where-Object { $_.DisplayName -like 'Trend Micro Deep Security Agent*' } | Select-Object -First 1
}
$a = Get-AgentUninstallEntry
"""

# installer_running, from the mutex Global\_MSIExecute that Windows Installer sets "only while processing the
# InstallExecuteSequence table, AdminExecuteSequence table, or AdvtExecuteSequence table"
# (learn.microsoft.com/windows/win32/msi/-msiexecute-mutex). .NET's Mutex.OpenExisting throws
# WaitHandleCannotBeOpenedException when the named mutex does not exist (false) and UnauthorizedAccessException
# when it exists but cannot be opened (true: it exists); anything else is unknown (null), never "not running".
# PowerShell wraps a method's exception, so the innermost one is tested. installer_service: the same page says
# the service "is currently running if ... dwControlsAccepted ... is SERVICE_ACCEPT_SHUTDOWN", which .NET's
# ServiceController.CanShutdown reports. agent.installer_state combines both.
_INSTALLER_STATE = r"""
$r.agent.installer_running = $null
try { ([Threading.Mutex]::OpenExisting('Global\_MSIExecute')).Dispose(); $r.agent.installer_running = $true } catch {
  $x = $_.Exception
  while ($x.InnerException) { $x = $x.InnerException }
  if ($x -is [Threading.WaitHandleCannotBeOpenedException]) { $r.agent.installer_running = $false }
  elseif ($x -is [UnauthorizedAccessException]) { $r.agent.installer_running = $true }
}
$mi = Get-Service -Name msiserver -ErrorAction SilentlyContinue
$r.agent.installer_service = $null
if ($mi) { $r.agent.installer_service = @{ status = [string]$mi.Status; accepts_shutdown = [bool]$mi.CanShutdown } }
"""

MSCS_INFO = r"""
$r = [ordered]@{ computer = $env:COMPUTERNAME; cluster = $null; nodes = @(); groups = @(); networks = @() }
$svc = Get-Service -Name ClusSvc -ErrorAction SilentlyContinue
$r.cluster_service = $null
if ($svc) { $r.cluster_service = @{ status = [string]$svc.Status; start_mode = [string]$svc.StartType } }
""" + _AGENT_UNINSTALL_ENTRY + r"""
$as = Get-Service -Name ds_agent -ErrorAction SilentlyContinue
$r.agent = @{ installed = [bool]$a; version = $null; service_status = $null }
if ($a) { $r.agent.version = [string]$a.DisplayVersion }
if ($as) { $r.agent.service_status = [string]$as.Status }
""" + _INSTALLER_STATE + r"""
# The cluster is only readable locally while this node's cluster service runs.
if ($svc -and [string]$svc.Status -eq 'Running') {
  Import-Module FailoverClusters
  $c = Get-Cluster
  $q = Get-ClusterQuorum
  # Server 2016+ says QuorumType Majority whatever the witness: the witness is QuorumResource and its
  # ResourceType.DisplayName (Physical Disk, File Share Quorum Witness, Cloud Witness); FailoverClusterDsc.
  $w = $q.QuorumResource
  $r.cluster = @{ name = [string]$c.Name; quorum_type = [string]$q.QuorumType; quorum_resource = $null; witness_type = $null
    witness_state = $null; witness_dynamic_weight = $null; dynamic_quorum = $null }
  if ($w) {
    $r.cluster.quorum_resource = [string]$w.Name
    $r.cluster.witness_type = [string]$w.ResourceType.DisplayName
    $r.cluster.witness_state = [string]$w.State
  }
  if ($null -ne $c.WitnessDynamicWeight) { $r.cluster.witness_dynamic_weight = [int]$c.WitnessDynamicWeight }
  if ($null -ne $c.DynamicQuorum) { $r.cluster.dynamic_quorum = [int]$c.DynamicQuorum }
  $r.nodes = @(Get-ClusterNode | ForEach-Object { $n = @{
    name = [string]$_.Name
    id = [string]$_.Id
    state = [string]$_.State
    drain_status = [string]$_.DrainStatus
    node_weight = [int]$_.NodeWeight
    dynamic_weight = $null
  }; if ($null -ne $_.DynamicWeight) { $n.dynamic_weight = [int]$_.DynamicWeight }; $n })
  # Each role's resources with their type and possible owners (Get-ClusterOwnerNode on a resource: "which nodes
  # can own the resource"; on a group: "the order of preference among owner nodes"); Python tells an availability
  # group ("SQL Server Availability Group") and an FCI ("SQL Server") by type, and a role can move only to a node
  # that can own every resource of it.
  $rs = @(Get-ClusterResource | ForEach-Object { @{ group = [string]$_.OwnerGroup.Name; name = [string]$_.Name
    type = [string]$_.ResourceType.Name
    possible_owners = @((Get-ClusterOwnerNode -Resource $_.Name).OwnerNodes | ForEach-Object { [string]$_.Name }) } })
  $r.groups = @(Get-ClusterGroup | ForEach-Object { $gn = [string]$_.Name; @{
    name = $gn
    owner_node = [string]$_.OwnerNode.Name
    state = [string]$_.State
    is_core = [bool]$_.IsCoreGroup
    resources = @($rs | Where-Object { $_.group -eq $gn })
    preferred_owners = @((Get-ClusterOwnerNode -Group $gn).OwnerNodes | ForEach-Object { [string]$_.Name })
  } })
  $r.networks = @(Get-ClusterNetwork | ForEach-Object { @{
    name = [string]$_.Name
    role = [string]$_.Role
    state = [string]$_.State
    address = [string]$_.Address
  } })
}
$r | ConvertTo-Json -Compress -Depth 5
"""

# Parameters: action (drain|stop|start|resume|return), force_drain (bool), failback (NoFailback|Immediate|Policy),
# timeout (seconds), allow_quorum_loss (bool, the module's force), roles (names, for return). Waits are bounded by
# $P.timeout; the JSON says whether the wait completed.
# Suspend-ClusterNode -Drain without -Wait returns at once (its -Wait is unbounded), so the first poll could
# read a Failed or Completed left by an earlier drain: a final DrainStatus counts only once this drain was
# seen InProgress or the status differs from the one read before the call.
# -ForceDrain stops roles that cannot move and moves them "as a failed role": only on explicit request.
# stop: MSCluster_Node.WillOfflineLoseQuorum ("Checks if the taking the node offline will cause the cluster to lose
# quorum", root\MSCluster, Windows Server 2012 and later) is asked first; then the core groups this node owns
# (Cluster Group, ...) are moved off with Move-ClusterGroup (no -Node: "to any other node"; the cmdlet page calls a
# move "an appropriate step to take in preparation for routine maintenance on a node"); the service is stopped
# without -Force, which Stop-Service needs to stop a service's running dependents: those are named and refused.
# return: a drained role that ended Failed on its target is moved back (the node resumed first, without failback).
MSCS_NODE = r"""
$n = $env:COMPUTERNAME
$end = (Get-Date).AddSeconds([int]$P.timeout)
function Wait-Until([scriptblock]$test) {
  while (-not (& $test)) {
    if ((Get-Date) -gt $end) { return $false }
    Start-Sleep -Seconds 2
  }
  return $true
}
$ok = $true
$x = [ordered]@{ refused = $null; will_offline_lose_quorum = $null; dependent_services = @() }
switch ([string]$P.action) {
  'drain' {
    Import-Module FailoverClusters
    $was = [string](Get-ClusterNode -Name $n).DrainStatus
    $script:seen = $false
    Suspend-ClusterNode -Name $n -Drain -ForceDrain:([bool]$P.force_drain) | Out-Null
    $ok = Wait-Until {
      $d = [string](Get-ClusterNode -Name $n).DrainStatus
      if ($d -eq 'InProgress' -or $d -ne $was) { $script:seen = $true }
      $script:seen -and @('Completed', 'Failed') -contains $d
    }
  }
  'stop' {
    Import-Module FailoverClusters
    $cn = Get-CimInstance -Namespace root/MSCluster -ClassName MSCluster_Node -Filter "Name='$n'"
    $x.will_offline_lose_quorum = [bool](Invoke-CimMethod -InputObject $cn -MethodName WillOfflineLoseQuorum).ReturnValue
    $x.dependent_services = @((Get-Service -Name ClusSvc).DependentServices | Where-Object { [string]$_.Status -ne 'Stopped' } |
      ForEach-Object { [string]$_.Name })
    if ($x.will_offline_lose_quorum -and -not [bool]$P.allow_quorum_loss) { $x.refused = 'quorum' }
    elseif ($x.dependent_services.Count) { $x.refused = 'dependent_services' }
    else {
      Get-ClusterGroup | Where-Object { $_.IsCoreGroup -and [string]$_.OwnerNode.Name -eq $n } |
        ForEach-Object { Move-ClusterGroup -Name $_.Name | Out-Null }
      Stop-Service -Name ClusSvc
      $ok = Wait-Until { [string](Get-Service -Name ClusSvc).Status -eq 'Stopped' }
    }
  }
  'start' {
    Start-Service -Name ClusSvc
    Import-Module FailoverClusters
    $ok = Wait-Until { try { @('Up', 'Paused') -contains [string](Get-ClusterNode -Name $n).State } catch { $false } }
  }
  'resume' {
    Import-Module FailoverClusters
    Resume-ClusterNode -Name $n -Failback ([string]$P.failback) | Out-Null
  }
  'return' {
    Import-Module FailoverClusters
    $back = @($P.roles | ForEach-Object { [string]$_ })
    Resume-ClusterNode -Name $n -Failback NoFailback | Out-Null
    foreach ($g in $back) { Move-ClusterGroup -Name $g -Node $n | Out-Null }
    $ok = Wait-Until { -not @(Get-ClusterGroup | Where-Object { $back -contains [string]$_.Name -and
      ([string]$_.State -ne 'Online' -or [string]$_.OwnerNode.Name -ne $n) }).Count }
  }
  default { throw "unknown action $($P.action)" }
}
$s = Get-Service -Name ClusSvc
$r = @{ computer = $n; action = [string]$P.action; completed = [bool]$ok; cluster_service = [string]$s.Status }
foreach ($k in $x.Keys) { $r[$k] = $x[$k] }
$r | ConvertTo-Json -Compress -Depth 5
"""

NLB_INFO = r"""
$r = [ordered]@{ computer = $env:COMPUTERNAME; installed = $false; cluster = $null; nodes = @(); port_rules = @() }
if (-not (Get-Module -ListAvailable -Name NetworkLoadBalancingClusters)) { $r | ConvertTo-Json -Compress -Depth 5; exit 0 }
Import-Module NetworkLoadBalancingClusters
$r.installed = $true
$c = $null
try { $c = Get-NlbCluster } catch { $c = $null }
if ($c) {
  $d = Get-NlbClusterDriverInfo
  # Microsoft's docs show the cluster's mode only as the table column Mode; the property may be
  # OperationMode (the New-/Set-NlbCluster parameter). Python falls back to the documented cluster MAC.
  $m = [string]$c.OperationMode
  if (-not $m) { $m = [string]$c.Mode }
  $r.cluster = @{
    name = [string]$c.Name
    ip_address = [string]$c.IPAddress
    subnet_mask = [string]$c.SubnetMask
    mode = $m
    mac_address = [string]$d.ClusterMacAddress
    host_state = [string]$d.CurrentHostState
  }
  # The list carries every host's own settings (interface, priority), so the cmdlet may ask each host: a
  # second hop that NTLM cannot make. Fail with the fix; never plan without the other hosts' states.
  try { $all = @(Get-NlbClusterNode) } catch {
    throw ("Get-NlbClusterNode could not read the other hosts of the cluster ($($_.Exception.Message)); the node may " +
      "need to pass your credentials on: use transport=credssp, or kerberos with kerberos_delegation=true (docs/windows.md)")
  }
  $r.nodes = @($all | ForEach-Object { @{
    name = [string]$_.Name
    host_id = [int]$_.HostPriority
    state = [string]$_.State
    priority = [int]$_.HostPriority
    interface = [string]$_.InterfaceName
    initial_state = [string]$_.InitialHostState
  } })
  # Property names from the docs' Format-List * output; IPAddress and Mode are only table column labels.
  $r.port_rules = @(Get-NlbClusterPortRule | ForEach-Object { @{
    start_port = [int]$_.StartPort
    end_port = [int]$_.EndPort
    protocol = [string]$_.Protocol
    mode = [string]$_.FilteringMode
    affinity = [string]$_.Affinity
    ip_address = [string]$_.VirtualIPAddress
  } })
}
$r | ConvertTo-Json -Compress -Depth 5
"""

# Parameters: action (drainstop|stop|start|suspend|resume), drain_seconds. Stop-NlbClusterNode -Timeout is
# "the number of seconds to wait for the drain operation" (its cmdlet page; the Stop-NlbCluster page still
# says minutes), after which the remaining connections are dropped.
# The host's own state also comes from Get-NlbClusterDriverInfo (this machine's driver, no other host asked).
NLB_NODE = r"""
Import-Module NetworkLoadBalancingClusters
$h = $env:COMPUTERNAME
switch ([string]$P.action) {
  'drainstop' { Stop-NlbClusterNode -HostName $h -Drain -Timeout ([uint32]$P.drain_seconds) | Out-Null }
  'stop' { Stop-NlbClusterNode -HostName $h | Out-Null }
  'start' { Start-NlbClusterNode -HostName $h | Out-Null }
  'suspend' { Suspend-NlbClusterNode -HostName $h | Out-Null }
  'resume' { Resume-NlbClusterNode -HostName $h | Out-Null }
  default { throw "unknown action $($P.action)" }
}
$s = $null
try { $s = Get-NlbClusterNode -NodeName $h | Select-Object -First 1 } catch { $s = $null }
$d = Get-NlbClusterDriverInfo
$r = @{ computer = $h; action = [string]$P.action; state = $null; host_state = [string]$d.CurrentHostState }
if ($s) { $r.state = [string]$s.State }
$r | ConvertTo-Json -Compress -Depth 5
"""

# Native commands (dsa_query.cmd, dsa_control.cmd, msiexec) run where $ErrorActionPreference is 'Continue':
# in Windows PowerShell 5.1 a line a native command writes to a redirected stderr becomes an error record,
# which 'Stop' turns into a terminating error before the exit code can be read (PowerShell issue 14273;
# "Differences between Windows PowerShell 5.1 and PowerShell 7.x"). A function or script block is a scope
# of its own (about_Scopes), so the preference changes there only; success is judged by exit code and output.
# Get-Content lines are cast to [string]: in 5.1 they carry PSPath & co., which ConvertTo-Json would write
# out as objects (PowerShell issues 6458, 6388).
# Parameters arrive as one JSON document on standard input ($input), as ansible-core's own bootstrap_wrapper.ps1
# reads its payload, so no secret appears on the powershell.exe command line (process auditing, event 4688).

AGENT_INFO = r"""
""" + _AGENT_UNINSTALL_ENTRY + r"""
$s = Get-Service -Name ds_agent -ErrorAction SilentlyContinue
$c = Get-Service -Name ClusSvc -ErrorAction SilentlyContinue
$m = Get-ItemProperty 'HKLM:\SOFTWARE\clustersafe\deep_security' -ErrorAction SilentlyContinue
$dq = 'C:\Program Files\Trend Micro\Deep Security Agent\dsa_query.cmd'
$lines = @()
if ($a -and (Test-Path $dq)) {
  $lines = @(& { $ErrorActionPreference = 'Continue'; & $dq -c GetAgentStatus 2>&1 | ForEach-Object { [string]$_ } })
}
$r = [ordered]@{ computer = $env:COMPUTERNAME; cluster_service = $null }
if ($c) { $r.cluster_service = @{ status = [string]$c.Status; start_mode = [string]$c.StartType } }
$r.agent = @{ installed = [bool]$a; version = $null; product_code = $null; service_status = $null
  status_lines = $lines; recorded_url = $null; recorded_policy_id = $null }
if ($a) { $r.agent.version = [string]$a.DisplayVersion; $r.agent.product_code = [string]$a.PSChildName }
if ($s) { $r.agent.service_status = [string]$s.Status }
if ($m) { $r.agent.recorded_url = [string]$m.DsmUrl; $r.agent.recorded_policy_id = [string]$m.PolicyId }
""" + _INSTALLER_STATE + r"""
# A reboot the agent's MSI asked for is pending until the boot after the one it was recorded in.
$boot = [string](Get-CimInstance Win32_OperatingSystem).LastBootUpTime.Ticks
$cbs = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending'
$r.reboot_pending = [bool]((Test-Path $cbs) -or ($m -and [string]$m.RebootPendingBoot -eq $boot))
$r | ConvertTo-Json -Compress -Depth 5
"""

# Parameters (standard input): url or path, sha256, insecure_download, password. The MSI is downloaded or
# copied into a new folder whose ACL (set at creation) lets only Administrators and SYSTEM write, hashed
# there, installed from there and removed (inheritance 3 = ContainerInherit, ObjectInherit; propagation 0 =
# None). The module's registry key is created only when missing: New-Item -Force on an existing key would
# drop the activation record beside it. /norestart: without it msiexec /qn restarts the node whenever it
# needs to (Windows Installer command-line options).
AGENT_INSTALL = r"""
$dc = 'C:\Program Files\Trend Micro\Deep Security Agent\dsa_control.cmd'
function Invoke-Native([string]$exe, [string[]]$av) {
  $ErrorActionPreference = 'Continue'
  $o = @(& $exe @av 2>&1 | ForEach-Object { [string]$_ })
  @{ code = [int]$LASTEXITCODE; out = ($o -join "`n") }
}
$pw = @()
if ($P.password) {
  if ([string]$P.password -notmatch '^[A-Za-z0-9_.:/@#+~\[\]-]+\z') { throw 'the self-protection password holds a character cmd.exe would interpret' }
  $pw = @('-p', [string]$P.password)
}
$r = @{ exit_code = -1; log_tail = @(); self_protection = 'untouched' }
if (Test-Path $dc) {
  $x = Invoke-Native $dc (@('-s', '0') + $pw)
  $r.self_protection = if ($x.code -eq 0) { 'off' } else { 'failed' }
  $r.self_protection_output = $x.out
}
$acl = New-Object Security.AccessControl.DirectorySecurity
$acl.SetAccessRuleProtection($true, $false)
foreach ($sid in 'S-1-5-32-544', 'S-1-5-18') {
  $id = New-Object Security.Principal.SecurityIdentifier $sid
  $acl.AddAccessRule((New-Object Security.AccessControl.FileSystemAccessRule($id, 'FullControl', 3, 0, 'Allow')))
}
$d = Join-Path $env:SystemRoot ('Temp\clustersafe-' + [guid]::NewGuid().ToString('N'))
[IO.Directory]::CreateDirectory($d, $acl) | Out-Null
try {
  $f = Join-Path $d 'agent.msi'
  if ($P.url) {
    [Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12
    if ($P.insecure_download) { [Net.ServicePointManager]::ServerCertificateValidationCallback = { $true } }
    Invoke-WebRequest -Uri ([string]$P.url) -OutFile $f -UseBasicParsing
  } else {
    Copy-Item -LiteralPath ([string]$P.path) -Destination $f
  }
  $h = (Get-FileHash -LiteralPath $f -Algorithm SHA256).Hash
  if ($P.sha256 -and $h -ne [string]$P.sha256) { throw "SHA-256 of the installer is $h, expected $($P.sha256); nothing was installed" }
  $log = Join-Path $d 'msi.log'
  $p = Start-Process -Wait -PassThru -FilePath msiexec.exe -ArgumentList @('/i', "`"$f`"", '/qn', '/norestart',
    'ADDLOCAL=ALL', '/l*v', "`"$log`"")
  $r.exit_code = [int]$p.ExitCode
  if (@(0, 3010, 1641) -notcontains $r.exit_code -and (Test-Path $log)) {
    $r.log_tail = @(Get-Content -LiteralPath $log -Tail 20 | ForEach-Object { [string]$_ })
  }
} finally { Remove-Item -LiteralPath $d -Recurse -Force -ErrorAction SilentlyContinue }
if (@(3010, 1641) -contains $r.exit_code) {
  $k = 'HKLM:\SOFTWARE\clustersafe\deep_security'
  if (-not (Test-Path $k)) { New-Item -Path $k -Force | Out-Null }
  Set-ItemProperty -Path $k -Name RebootPendingBoot -Value ([string](Get-CimInstance Win32_OperatingSystem).LastBootUpTime.Ticks)
}
if ($r.self_protection -eq 'off' -and (Test-Path $dc)) { $r.self_protection = if ((Invoke-Native $dc @('-m')).code -eq 0) { 'heartbeat' } else { 'off' } }
$r | ConvertTo-Json -Compress -Depth 5
"""
# Parameters (standard input): password, product_code (checked by agent.check_product_code). Exit codes 0, 3010
# and 1641 all mean removed (3010 with a reboot pending, 1641 with the node restarting); /norestart keeps msiexec
# from restarting the node itself. The uninstall key's name reaches msiexec /x only when it is a GUID in registry
# form (Windows Installer's ProductCode property) and the one Python checked; otherwise nothing runs.
AGENT_REMOVE = r"""
$dc = 'C:\Program Files\Trend Micro\Deep Security Agent\dsa_control.cmd'
""" + _AGENT_UNINSTALL_ENTRY + r"""
$r = @{ exit_code = 0; log_tail = @(); removed = $false; self_protection = 'untouched'; self_protection_output = '' }
if ($a) {
  $pc = [string]$a.PSChildName
  if ($pc -notmatch '^\{[0-9A-Fa-f]{8}-([0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}\}\z' -or $pc -ne [string]$P.product_code) {
    throw "the agent's uninstall key name is not the product code the module checked; nothing was run"
  }
  if (Test-Path $dc) {
    $av = @('-s', '0')
    if ($P.password) {
      if ([string]$P.password -notmatch '^[A-Za-z0-9_.:/@#+~\[\]-]+\z') { throw 'the self-protection password holds a character cmd.exe would interpret' }
      $av += @('-p', [string]$P.password)
    }
    $o = @(& { $ErrorActionPreference = 'Continue'; & $dc @av 2>&1 | ForEach-Object { [string]$_ }; "exit:$LASTEXITCODE" })
    $r.self_protection = if ($o[-1] -eq 'exit:0') { 'off' } else { 'failed' }
    $r.self_protection_output = ($o -join "`n")
  }
  $log = Join-Path $env:SystemRoot ('Temp\clustersafe-agent-remove-' + [guid]::NewGuid().ToString('N') + '.log')
  $p = Start-Process -FilePath msiexec.exe -ArgumentList @('/x', $pc, '/qn', '/norestart', '/l*v', "`"$log`"") -Wait -PassThru
  $r.exit_code = [int]$p.ExitCode
  if (@(0, 3010, 1641) -contains $r.exit_code) {
    $r.removed = $true
    $k = 'HKLM:\SOFTWARE\clustersafe\deep_security'
    Remove-Item -Path $k -Recurse -ErrorAction SilentlyContinue
    if ($r.exit_code -ne 0) {
      New-Item -Path $k -Force | Out-Null
      Set-ItemProperty -Path $k -Name RebootPendingBoot -Value ([string](Get-CimInstance Win32_OperatingSystem).LastBootUpTime.Ticks)
    }
  } elseif (Test-Path $log) { $r.log_tail = @(Get-Content -LiteralPath $log -Tail 20 | ForEach-Object { [string]$_ }) }
  Remove-Item -LiteralPath $log -ErrorAction SilentlyContinue
}
$r | ConvertTo-Json -Compress -Depth 5
"""

# Parameters (standard input): arguments (dsa_control -a's, built and checked by agent.activation_arguments),
# url and policy_id (recorded), reset, wait (seconds), password. Trend's scripts wait for the agent before
# activating; this waits, bounded, for ds_agent to be Running. dsa_control -r runs only when the Python side
# found the agent activated to another manager.
AGENT_ACTIVATE = r"""
$dc = 'C:\Program Files\Trend Micro\Deep Security Agent\dsa_control.cmd'
if (-not (Test-Path $dc)) { throw "dsa_control not found at $dc; install the agent first" }
$av = @($P.arguments | ForEach-Object { [string]$_ })
$pw = @()
if ($P.password) { $pw = @('-p', [string]$P.password) }
foreach ($x in ($av + $pw)) {
  if ($x -notmatch '^[A-Za-z0-9_.:/@#+~\[\]-]+\z') { throw 'an argument for dsa_control holds a character cmd.exe would interpret; nothing was run' }
}
function Invoke-Native([string[]]$v) {
  $ErrorActionPreference = 'Continue'
  $o = @(& $dc @v 2>&1 | ForEach-Object { [string]$_ })
  @{ code = [int]$LASTEXITCODE; out = ($o -join "`n") }
}
$end = (Get-Date).AddSeconds([int]$P.wait)
$s = Get-Service -Name ds_agent -ErrorAction SilentlyContinue
if ($s -and [string]$s.Status -eq 'Stopped') { Start-Service -Name ds_agent -ErrorAction SilentlyContinue }
while (-not $s -or [string]$s.Status -ne 'Running') {
  if ((Get-Date) -gt $end) { break }
  Start-Sleep -Seconds 2
  $s = Get-Service -Name ds_agent -ErrorAction SilentlyContinue
}
$r = @{ exit_code = -1; output = ''; reset = $false; service_status = $null }
if ($s) { $r.service_status = [string]$s.Status }
if ($r.service_status -eq 'Running') {
  if ($P.reset) {
    $x = Invoke-Native (@('-r') + $pw)
    $r.reset = $x.code -eq 0
    $r.output = $x.out + "`n"
  }
  $x = Invoke-Native (@('-a') + $av + $pw)
  $r.exit_code = $x.code
  $r.output = ($r.output + $x.out).Trim()
}
foreach ($x in $av) { if ($x -like 'token:*') { $r.output = $r.output.Replace($x.Substring(6), '********') } }
if ($r.exit_code -eq 0) {
  $k = 'HKLM:\SOFTWARE\clustersafe\deep_security'
  if (-not (Test-Path $k)) { New-Item -Path $k -Force | Out-Null }
  Set-ItemProperty -Path $k -Name DsmUrl -Value ([string]$P.url)
  Set-ItemProperty -Path $k -Name PolicyId -Value ([string]$P.policy_id)
}
$r | ConvertTo-Json -Compress -Depth 5
"""

# The agent scripts read their parameters from standard input (client.run(..., stdin_params=...)), not
# from the command line; only the script text travels in the encoded command.
AGENT_STDIN_SCRIPTS = ("agent_install", "agent_remove", "agent_activate")

# name -> (body, parameters the Python side sends, keys the Python side reads from the document)
SCRIPTS = {
    "mscs_cluster_info": (MSCS_INFO, (), ("computer", "cluster", "nodes", "groups", "networks", "cluster_service", "agent")),
    "mscs_node": (MSCS_NODE, ("action", "force_drain", "failback", "timeout", "allow_quorum_loss", "roles"),
                  ("computer", "action", "completed", "cluster_service", "refused", "will_offline_lose_quorum",
                   "dependent_services")),
    "nlb_cluster_info": (NLB_INFO, (), ("computer", "installed", "cluster", "nodes", "port_rules")),
    "nlb_node": (NLB_NODE, ("action", "drain_seconds"), ("computer", "action", "state", "host_state")),
    "agent_info": (AGENT_INFO, (), ("computer", "cluster_service", "agent", "reboot_pending")),
    "agent_install": (AGENT_INSTALL, ("url", "path", "sha256", "insecure_download", "password"),
                      ("exit_code", "log_tail", "self_protection")),
    "agent_remove": (AGENT_REMOVE, ("password", "product_code"), ("exit_code", "log_tail", "removed", "self_protection")),
    "agent_activate": (AGENT_ACTIVATE, ("arguments", "url", "policy_id", "reset", "wait", "password"),
                       ("exit_code", "output", "reset", "service_status")),
}


def body(name):
    return SCRIPTS[name][0]


# --- window records (safety invariant 7; plugins/module_utils/winrm/records.py) -------------------
# Registry provider (about_Registry_Provider): keys are items (New-Item, Get-ChildItem, Remove-Item,
# Test-Path), values are item properties (Set-ItemProperty with the provider's -Type, Get-ItemProperty).
# https://learn.microsoft.com/powershell/module/microsoft.powershell.core/about/about_registry_provider
# https://learn.microsoft.com/powershell/module/microsoft.powershell.management/new-item (and set-itemproperty,
# get-itemproperty, get-childitem, remove-item under the same path). New-Item -Force on an existing key
# recreates it empty: https://github.com/PowerShell/PowerShell/issues/5444
# -LiteralPath everywhere a window id is part of the path, so nothing in it is read as a wildcard.
# Both scripts end with the same read of every record; $only limits it to one window (-eq has no case,
# as registry key names).
_WINDOW_RECORDS_READ = r"""
$r = [ordered]@{ computer = $env:COMPUTERNAME; records = @() }
$ws = @()
if (Test-Path -LiteralPath $root) { $ws = @(Get-ChildItem -LiteralPath $root) }
if ($only) { $ws = @($ws | Where-Object { $_.PSChildName -eq $only }) }
$r.records = @(foreach ($w in $ws) {
  foreach ($c in @(Get-ChildItem -LiteralPath $w.PSPath)) {
    $v = Get-ItemProperty -LiteralPath $c.PSPath
    @{ window = [string]$w.PSChildName; change = [string]$c.PSChildName; since = $v.since; controller = $v.controller; data = $v.data }
  }
})
$r | ConvertTo-Json -Compress -Depth 5
"""

# Parameters: window (optional filter).
NODE_WINDOW_RECORD_INFO = r"""
$root = 'HKLM:\SOFTWARE\clustersafe\maintenance_windows'
$only = [string]$P.window
""" + _WINDOW_RECORDS_READ

# Parameters: action (set|remove), window, change (set), changes (remove), data (JSON text), controller.
# Python has decided; this only writes, then reads every record back. The names become registry paths, so the
# node refuses once more any window that is not a window id (window_id.py: no '..', no separator) and any
# change the collection does not record (records.CHANGES), case-sensitively, before a path is built.
NODE_WINDOW_RECORD = r"""
$root = 'HKLM:\SOFTWARE\clustersafe\maintenance_windows'
$known = @('node_drained', 'cluster_service_stopped', 'nlb_node_stopped', 'network_engine_mode', 'agent_maintenance')
if ([string]$P.window -cnotmatch '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\z') { throw "refused: window $($P.window) is not a window id" }
foreach ($c in @($P.change) + @($P.changes)) { if ($c -and $known -cnotcontains [string]$c) { throw "refused: unknown change $c" } }
$w = $root + '\' + [string]$P.window
if ([string]$P.action -eq 'set') {
  $k = $w + '\' + [string]$P.change
  # New-Item -Force recreates an existing key without its values (PowerShell issue 5444): only when missing.
  if (-not (Test-Path -LiteralPath $k)) { New-Item -Path $k -Force | Out-Null }
  # since last: a record without it is one whose write was cut short
  Set-ItemProperty -LiteralPath $k -Name data -Value ([string]$P.data) -Type String
  Set-ItemProperty -LiteralPath $k -Name controller -Value ([string]$P.controller) -Type String
  Set-ItemProperty -LiteralPath $k -Name since -Value ([DateTime]::UtcNow.ToString('s') + 'Z') -Type String
} elseif ([string]$P.action -eq 'remove') {
  foreach ($c in @($P.changes)) {
    $k = $w + '\' + [string]$c
    if (Test-Path -LiteralPath $k) { Remove-Item -LiteralPath $k -Recurse }
  }
  if ((Test-Path -LiteralPath $w) -and -not (Get-ChildItem -LiteralPath $w)) { Remove-Item -LiteralPath $w }
} else {
  throw "unknown action $($P.action)"
}
$only = ''
""" + _WINDOW_RECORDS_READ

SCRIPTS.update({
    "node_window_record_info": (NODE_WINDOW_RECORD_INFO, ("window",), ("computer", "records")),
    "node_window_record": (NODE_WINDOW_RECORD, ("action", "window", "change", "changes", "data", "controller"),
                           ("computer", "records")),
})

# A window's lease on its cluster (safety invariant 9), one REG_SZ value holding a JSON object on the
# cluster's lease node. Parameters: action (read|take|release), expected (the exact text the caller read
# there, '' for none: a compare-and-swap of the whole value), lease (run, window, holder, controller, unit),
# ttl (seconds). The compare and the write happen
# under the named system mutex Global\clustersafe-window-lease, so two controllers' scripts on this node
# cannot both see the same lease and both replace it (.NET Mutex: a named mutex in the Global namespace is
# one object for every session of the machine). Times are the node's clock, never a controller's.
WINDOW_LEASE = r"""
$k = 'HKLM:\SOFTWARE\clustersafe\window_lease'
$m = New-Object Threading.Mutex($false, 'Global\clustersafe-window-lease')
if (-not $m.WaitOne(30000)) { throw 'the lease mutex Global\clustersafe-window-lease stayed busy for 30 s' }
try {
  $cur = [string](Get-ItemProperty -LiteralPath $k -Name lease -ErrorAction SilentlyContinue).lease
  $run = ''
  $since = $null
  if ($cur) { try { $o = ConvertFrom-Json $cur; $run = [string]$o.run; $since = [string]$o.since } catch { $run = '' } }
  $now = [DateTime]::UtcNow
  $swapped = $false
  if ([string]$P.action -ne 'read' -and $cur -ceq [string]$P.expected) {
    if ([string]$P.action -eq 'release') {
      if ($cur) { Remove-ItemProperty -LiteralPath $k -Name lease }
      $cur = ''
    } else {
      $l = [ordered]@{}
      foreach ($n in 'run', 'window', 'holder', 'controller', 'unit') { $l[$n] = [string]$P.lease.$n }
      if ($run -ne [string]$P.lease.run -or -not $since) { $since = $now.ToString('s') + 'Z' }
      $l.since = $since
      $l.heartbeat = $now.ToString('s') + 'Z'
      $l.expires = $now.AddSeconds([int]$P.ttl).ToString('s') + 'Z'
      $cur = $l | ConvertTo-Json -Compress -Depth 5
      if (-not (Test-Path -LiteralPath $k)) { New-Item -Path $k -Force | Out-Null }
      Set-ItemProperty -LiteralPath $k -Name lease -Value $cur -Type String
    }
    $swapped = $true
  }
  @{ computer = $env:COMPUTERNAME; now = $now.ToString('s') + 'Z'; lease = $cur; swapped = $swapped } | ConvertTo-Json -Compress -Depth 5
} finally { $m.ReleaseMutex(); $m.Dispose() }
"""

SCRIPTS["window_lease"] = (WINDOW_LEASE, ("action", "expected", "lease", "ttl"), ("computer", "now", "lease", "swapped"))
