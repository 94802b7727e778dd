"""Build and launch the lab's simulated vCenter (``vcsim/main.go`` on the govmomi simulator library).

Debian ships govmomi 0.24 as GOPATH source without a ``vcsim`` command, and its simulator has gaps
a real vCenter does not (see REFERENCE §4). Wrapper types cannot close them: the simulator's own code
type-switches on its concrete ``*ClusterComputeResource``/``*HostSystem`` (VM power events, SearchIndex,
host parents), so a wrapped cluster or host breaks unrelated calls. Instead the build assembles a private
GOPATH entry that mirrors ``github.com/vmware/govmomi`` with symlinks, except ``simulator``: a copy in
which the few methods we replace are renamed out of the way and our ``simpatch/*.go`` files are added
to the package. Nothing of govmomi is committed; the copy is regenerated under the build dir.

    build(build_dir) -> binary path (cached on sources + go version)
    command(binary, topology, topology_path, state_dir, port=None, scale=None) -> argv
"""
import fcntl
import hashlib
import json
import os
import shutil
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
MAIN_DIR = os.path.join(HERE, "vcsim")
PATCH_DIR = os.path.join(HERE, "simpatch")
SYSTEM_GOPATH = "/usr/share/gocode"
GOVMOMI = os.path.join(SYSTEM_GOPATH, "src", "github.com", "vmware", "govmomi")

# Simulator methods that simpatch/ re-implements: the originals are renamed so the package still compiles
# (Go has no method overriding inside one package). Each anchor must match exactly once, so a govmomi
# upgrade that moves them fails the build loudly instead of silently keeping the old behaviour.
RENAMES = [
    ("cluster_compute_resource.go", "func (c *ClusterComputeResource) ReconfigureComputeResourceTask("),
    ("host_system.go", "func (h *HostSystem) EnterMaintenanceModeTask("),
    ("host_system.go", "func (h *HostSystem) ExitMaintenanceModeTask("),
    ("virtual_machine.go", "func (vm *VirtualMachine) RelocateVMTask("),
    ("custom_fields_manager.go", "func (c *CustomFieldsManager) SetField("),
    ("custom_fields_manager.go", "func (c *CustomFieldsManager) AddCustomFieldDef("),
    ("property_collector.go", "func (pc *PropertyCollector) RetrievePropertiesEx("),
    ("session_manager.go", "func (s *SessionManager) Login("),
    ("virtual_machine.go", "func (vm *VirtualMachine) PowerOnVMTask("),
    ("virtual_machine.go", "func (vm *VirtualMachine) PowerOffVMTask("),
    ("virtual_machine.go", "func (vm *VirtualMachine) ShutdownGuest("),
    ("virtual_machine.go", "func (vm *VirtualMachine) SetCustomValue("),
]


def _go_env(build_dir):
    env = dict(os.environ)
    env["GO111MODULE"] = "off"
    env["GOFLAGS"] = ""
    env["GOPROXY"] = "off"
    if not env.get("HOME") or not os.access(env["HOME"], os.W_OK):
        env["HOME"] = build_dir
    if not env.get("GOCACHE"):
        env["GOCACHE"] = os.path.join(build_dir, "gocache")
    return env


def _go_version(env):
    return subprocess.run(["go", "version"], env=env, check=True, capture_output=True, text=True).stdout.strip()


def _sources():
    files = []
    for directory in (MAIN_DIR, PATCH_DIR):
        for name in sorted(os.listdir(directory)):
            if name.endswith(".go"):
                files.append(os.path.join(directory, name))
    simulator = os.path.join(GOVMOMI, "simulator")
    for name in sorted(os.listdir(simulator)):
        if name.endswith(".go") and not name.endswith("_test.go"):
            files.append(os.path.join(simulator, name))
    files.append(os.path.abspath(__file__))
    return files


def _fingerprint(env):
    digest = hashlib.sha256(_go_version(env).encode())
    for path in _sources():
        digest.update(path.encode())
        with open(path, "rb") as handle:
            digest.update(handle.read())
    return digest.hexdigest()[:16]


def _mirror(gopath):
    """Create <gopath>/src/github.com/vmware/govmomi: links to the system copy, a patched simulator."""
    if os.path.exists(gopath):
        shutil.rmtree(gopath)
    root = os.path.join(gopath, "src", "github.com", "vmware", "govmomi")
    os.makedirs(root)
    for entry in os.listdir(GOVMOMI):
        if entry != "simulator":
            os.symlink(os.path.join(GOVMOMI, entry), os.path.join(root, entry))
    source = os.path.join(GOVMOMI, "simulator")
    target = os.path.join(root, "simulator")
    os.makedirs(target)
    for entry in os.listdir(source):
        path = os.path.join(source, entry)
        if os.path.isdir(path):
            os.symlink(path, os.path.join(target, entry))
        elif entry.endswith(".go") and not entry.endswith("_test.go"):
            shutil.copyfile(path, os.path.join(target, entry))
    for filename, anchor in RENAMES:
        path = os.path.join(target, filename)
        with open(path) as handle:
            text = handle.read()
        if text.count(anchor) != 1:
            raise RuntimeError("govmomi simulator changed: %r not found once in %s" % (anchor, filename))
        # "func (x *T) Name(" -> "func (x *T) simName(": unexported, so no longer a SOAP method.
        head, name = anchor[:-1].rsplit(" ", 1)
        text = text.replace(anchor, "%s sim%s(" % (head, name))
        with open(path, "w") as handle:
            handle.write(text)
    for entry in sorted(os.listdir(PATCH_DIR)):
        if entry.endswith(".go"):
            shutil.copyfile(os.path.join(PATCH_DIR, entry), os.path.join(target, entry))


def build(build_dir):
    """Build the simulator once per source/toolchain fingerprint; return the binary's path."""
    build_dir = os.path.abspath(build_dir)
    os.makedirs(build_dir, exist_ok=True)
    env = _go_env(build_dir)
    binary = os.path.join(build_dir, "vcsim-%s" % _fingerprint(env))
    if os.path.exists(binary):
        return binary
    with open(os.path.join(build_dir, ".vcsim.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(binary):
            return binary
        gopath = os.path.join(build_dir, "gopath")
        _mirror(gopath)
        env["GOPATH"] = "%s:%s" % (gopath, SYSTEM_GOPATH)
        tmp = binary + ".tmp"
        result = subprocess.run(["go", "build", "-o", tmp, "."], cwd=MAIN_DIR, env=env,
                                capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError("building the simulated vCenter failed:\n%s%s" % (result.stdout, result.stderr))
        os.replace(tmp, binary)
        for name in os.listdir(build_dir):
            if name.startswith("vcsim-") and os.path.join(build_dir, name) != binary:
                os.remove(os.path.join(build_dir, name))
    return binary


def command(binary, topology, topology_path, state_dir, port=None, scale=None):
    """Write <state_dir>/vcenter.config.json from the topology's ``vcenter:`` section; return the argv."""
    from tests.lab import pki

    state_dir = os.path.abspath(state_dir)
    os.makedirs(state_dir, exist_ok=True)
    vcenter = topology["vcenter"]
    cert, key = pki.issue(os.path.join(state_dir, "pki"), "vcenter",
                          ip_addresses=["127.0.0.1"], dns_names=["localhost"])
    sdk_port = int(port or vcenter.get("port", 18443))
    config = {
        "address": "127.0.0.1",
        "port": sdk_port,
        "control_port": sdk_port + 1,
        "username": vcenter["username"],
        "password": vcenter["password"],
        "datacenter": vcenter.get("datacenter", "DC-Lab"),
        "dsva_name_pattern": vcenter.get("dsva_name_pattern", "dsva-{host}"),
        # vCenter pages at 100 objects; the benchmark keeps that, the small lab topology may page sooner.
        "default_page_size": 100 if scale else int(vcenter.get("default_page_size", 100)),
        "cert_file": cert,
        "key_file": key,
        "state_dir": state_dir,
        "topology_path": os.path.abspath(topology_path) if topology_path else "",
        "clusters": [],
    }
    # an account without "privileges" is an administrator (every privilege), as the main one is
    config["accounts"] = [{"username": account["username"], "password": account["password"],
                           "privileges": None if account.get("privileges") is None else list(account["privileges"])}
                          for account in vcenter.get("accounts") or []]
    config["method_privileges"] = method_privileges()
    config["tools_start_ms"] = int(vcenter.get("tools_start_ms", 2000))
    if scale:
        config["clusters"] = _scaled_clusters(scale, config["dsva_name_pattern"])
    else:
        for cluster in vcenter.get("clusters", []):
            drs = cluster.get("drs") or {}
            ha = cluster.get("ha") or {}
            config["clusters"].append({
                "name": cluster["name"],
                "hosts": list(cluster.get("hosts", [])),
                "dsva": bool(cluster.get("dsva", False)),
                "drs_enabled": bool(drs.get("enabled", True)),
                "drs_automation": drs.get("automation", "fullyAutomated"),
                "vmotion_rate": int(drs.get("vmotion_rate", 3)),
                "ha_enabled": bool(ha.get("enabled", True)),
                "host_monitoring": ha.get("host_monitoring", "enabled"),
                "admission_control": bool(ha.get("admission_control", True)),
                "dsva_product": bool(cluster.get("dsva_product", False)),
                "vms": [{"name": vm["name"], "host": vm["host"],
                         "power_on": str(vm.get("power", "on")).lower() not in ("off", "false", "poweredoff")}
                        for vm in cluster.get("vms", [])],
            })
    path = os.path.join(state_dir, "vcenter.config.json")
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        json.dump(config, handle, indent=1)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return [binary, "-config", path]


def method_privileges():
    """{"Type.Method": [privilege, ...]} for every vSphere API method with a fixed privilege: the method's own
    ``privId`` and those of its parameters (SetField's ``entity``: Global.SetCustomField), from pyVmomi's type
    information, which carries vCenter's "Required Privileges" of each method. Inherited methods are listed
    under each type that has them, as a SOAP call names the object's own type."""
    from pyVmomi import VmomiSupport

    table = {}
    for name in sorted(getattr(VmomiSupport, "_managedDefMap", {})):
        try:
            kind = VmomiSupport.GetVmodlType(name)
        except (KeyError, AttributeError):
            continue
        for cls in kind.__mro__:
            for info in getattr(cls, "_methodInfo", {}).values():
                privileges = [info.privId] if info.privId else []
                privileges += [param.privId for param in info.params if getattr(param, "privId", None)]
                if privileges:
                    table.setdefault("%s.%s" % (kind._wsdlName, info.wsdlName), sorted(set(privileges)))
    if not table:
        raise RuntimeError("pyVmomi's type information lists no method privileges; the lab cannot check privileges")
    return table


def _scaled_clusters(scale, dsva_pattern):
    """Benchmark inventory: clusters x hosts, VMs round-robin over all hosts, a DSVA per host, dsm-01."""
    n_clusters = int(scale.get("clusters", 1))
    per_cluster = int(scale.get("hosts_per_cluster", 1))
    n_vms = int(scale.get("vms", 0))
    clusters = []
    for c in range(n_clusters):
        hosts = ["esx-c%02d-h%02d.lab.local" % (c + 1, h + 1) for h in range(per_cluster)]
        automation = "fullyAutomated" if c % 2 == 0 else "partiallyAutomated"
        clusters.append({"name": "Cluster-%02d" % (c + 1), "hosts": hosts, "dsva": True,
                         "drs_enabled": True, "drs_automation": automation, "vmotion_rate": 3,
                         "ha_enabled": True, "host_monitoring": "enabled", "admission_control": True,
                         "vms": []})
    all_hosts = [(cluster, host) for cluster in clusters for host in cluster["hosts"]]
    if all_hosts:
        clusters[0]["vms"].append({"name": "dsm-01", "host": clusters[0]["hosts"][0], "power_on": True})
        for i in range(n_vms):
            cluster, host = all_hosts[i % len(all_hosts)]
            cluster["vms"].append({"name": "vm-%05d" % (i + 1), "host": host, "power_on": i % 10 != 9})
    return clusters
