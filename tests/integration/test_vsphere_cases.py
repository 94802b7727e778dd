"""vSphere cases that need the lab's vCenter in a state no module sets up (an appliance powered off, a VM
on local storage, a cluster that ignores per-VM overrides, two VMs of one name, DRS rules). Each test
prepares the state with plain pyVmomi, runs the modules through ansible-playbook and puts the lab back."""
import ssl
import time

import pytest

from test_playbooks import run_playbook

pyVmomi = pytest.importorskip("pyVmomi")
from pyVim.connect import Disconnect, SmartConnect  # noqa: E402
from pyVmomi import vim, vmodl  # noqa: E402


@pytest.fixture
def si(lab):
    connection = SmartConnect(host=lab["VMWARE_HOST"], port=int(lab["VMWARE_PORT"]), user=lab["VMWARE_USER"],
                              pwd=lab["VMWARE_PASSWORD"],
                              sslContext=ssl.create_default_context(cafile=lab["CLUSTERSAFE_LAB_CA"]))
    yield connection
    Disconnect(connection)


def objects(si, kind):
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [kind], True)
    try:
        return dict((obj.name, obj) for obj in view.view)
    finally:
        view.Destroy()


def wait(task, timeout=60):
    deadline = time.time() + timeout
    while task.info.state in (vim.TaskInfo.State.queued, vim.TaskInfo.State.running):
        assert time.time() < deadline, "task still running"
        time.sleep(0.05)
    return task.info


def play(lab, tmp_path, tasks):
    playbook = tmp_path / "case.yml"
    playbook.write_text("- hosts: localhost\n  gather_facts: false\n  tasks:\n" + tasks)
    result = run_playbook(lab, str(playbook))
    assert result.returncode == 0, result.stdout[-8000:]
    assert lab["VMWARE_PASSWORD"] not in result.stdout + result.stderr
    return result


@pytest.mark.lab
def test_evacuation_enters_and_leaves_maintenance_mode(lab, si, tmp_path):
    # The DSVA was powered off by hand, not by the evacuation: the restore leaves maintenance mode but moves no VM
    # back onto a host without a running DSVA (VS-01), keeping DRS at manual and the moves in the record; once the
    # DSVA runs again, a second restore moves WEB3 back and puts DRS back.
    dsva = objects(si, vim.VirtualMachine)["dsva-esx-13.lab.local"]
    host = objects(si, vim.HostSystem)["esx-13.lab.local"]
    assert wait(dsva.PowerOffVM_Task()).state == "success"
    try:
        play(lab, tmp_path, """
    - clustersafe.deep_security.vsphere_host_evacuate:
        cluster: Web-Cluster
        host: esx-13.lab.local
        maintenance_mode: true
        window: CHG-MM
        timeout: 60
      register: evacuated
    - clustersafe.deep_security.vsphere_cluster_info:
        clusters: [Web-Cluster]
      register: during
    - clustersafe.deep_security.vsphere_host_evacuate:
        cluster: Web-Cluster
        host: esx-13.lab.local
        state: restored
        timeout: 60
      register: refused
      ignore_errors: true
    - clustersafe.deep_security.vsphere_cluster_info:
        clusters: [Web-Cluster]
      register: back_without_dsva
    - ansible.builtin.assert:
        that:
          - evacuated is changed
          - evacuated.maintenance_mode
          - evacuated.moves | map(attribute='vm') | list == ['WEB3']
          - during.clusters[0].hosts[2].maintenance_mode
          - during.clusters[0].hosts[2].evacuation.maintenance
          - during.clusters[0].hosts[2].evacuation.cluster == 'Web-Cluster'
          - refused is failed
          - "'no running DSVA' in refused.msg"
          - not back_without_dsva.clusters[0].hosts[2].maintenance_mode
          - back_without_dsva.clusters[0].hosts[2].evacuation.moved | map(attribute='vm') | list == ['WEB3']
          - back_without_dsva.clusters[0].drs.automation_level == 'manual'
          - back_without_dsva.clusters[0].drs_window.window == 'evacuation-restore'
""")
        assert wait(dsva.PowerOnVM_Task(host=host)).state == "success"
        play(lab, tmp_path, """
    - clustersafe.deep_security.vsphere_host_evacuate:
        cluster: Web-Cluster
        host: esx-13.lab.local
        state: restored
        timeout: 60
      register: restored
    - clustersafe.deep_security.vsphere_cluster_info:
        clusters: [Web-Cluster]
      register: after
    - ansible.builtin.assert:
        that:
          - restored is changed
          - not restored.maintenance_mode
          - restored.moves | map(attribute='vm') | list == ['WEB3']
          - restored.tools_waited == ['dsva-esx-13.lab.local']
          - not after.clusters[0].hosts[2].maintenance_mode
          - after.clusters[0].hosts[2].evacuation is none
          - "'WEB3' in after.clusters[0].hosts[2].powered_on_vms"
          - after.clusters[0].drs.automation_level == 'partiallyAutomated'
          - after.clusters[0].drs_window is none
""")
    finally:
        if host.runtime.inMaintenanceMode:
            wait(host.ExitMaintenanceMode_Task(timeout=60))
        if dsva.runtime.powerState != "poweredOn":
            wait(dsva.PowerOnVM_Task(host=host))


@pytest.mark.lab
def test_evacuation_stops_before_the_first_move_when_vcenter_refuses_one(lab, si, tmp_path):
    vms = objects(si, vim.VirtualMachine)
    source = objects(si, vim.HostSystem)["esx-12.lab.local"]
    web2 = vms["WEB2"]
    shared = web2.datastore[0]
    local_dir = tmp_path / "local-ds"
    local_dir.mkdir()
    # a fresh name each run: the simulator keeps a removed datastore's name in its inventory
    local_name = "esx-12-local-%d" % int(time.time() * 1000)
    local = source.configManager.datastoreSystem.CreateLocalDatastore(name=local_name, path=str(local_dir))
    assert wait(web2.RelocateVM_Task(vim.vm.RelocateSpec(datastore=local))).state == "success"
    try:
        play(lab, tmp_path, """
    - clustersafe.deep_security.vsphere_host_evacuate:
        cluster: Web-Cluster
        host: esx-12.lab.local
      register: refused
      ignore_errors: true
    - clustersafe.deep_security.vsphere_cluster_info:
        clusters: [Web-Cluster]
      register: after
    - ansible.builtin.assert:
        fail_msg: "{{ refused.msg }}"
        that:
          - refused is failed
          - "'WEB2' in refused.msg and 'LOCAL_NAME' in refused.msg"
          - "'nothing was moved' in refused.msg"
          - after.clusters[0].hosts[1].powered_on_vms | sort(case_sensitive=true) == ['WEB2', 'dsva-esx-12.lab.local', 'vdi-desktop-02']
          - after.clusters[0].hosts[1].evacuation is none
""".replace("LOCAL_NAME", local_name))
    finally:
        wait(web2.RelocateVM_Task(vim.vm.RelocateSpec(datastore=shared)))
        try:
            source.configManager.datastoreSystem.RemoveDatastore(local)
        except vmodl.MethodFault:  # govmomi 0.24's simulator cannot remove a datastore; it stays unused
            pass


@pytest.mark.lab
def test_pin_turns_on_vm_overrides_the_cluster_ignores(lab, si, tmp_path):
    cluster = objects(si, vim.ClusterComputeResource)["Web-Cluster"]
    spec = vim.cluster.ConfigSpecEx(drsConfig=vim.cluster.DrsConfigInfo(enableVmBehaviorOverrides=False))
    assert wait(cluster.ReconfigureComputeResource_Task(spec, True)).state == "success"
    try:
        play(lab, tmp_path, """
    - clustersafe.deep_security.vsphere_dsva_pin:
        cluster: Web-Cluster
        dsva_name_pattern: "no-such-name-*"
        enable_vm_overrides: false
      register: refused
      ignore_errors: true
    - clustersafe.deep_security.vsphere_dsva_pin:
        cluster: Web-Cluster
        dsva_name_pattern: "no-such-name-*"
      register: pinned
    - clustersafe.deep_security.vsphere_cluster_info:
        clusters: [Web-Cluster]
      register: after
    - clustersafe.deep_security.vsphere_dsva_pin:
        cluster: Web-Cluster
        state: absent
    - ansible.builtin.assert:
        fail_msg: "{{ refused.msg }}"
        that:
          - refused is failed
          - "'enableVmBehaviorOverrides' in refused.msg"
          - pinned is changed
          - pinned.enabled_vm_overrides
          - pinned.dsvas | length == 3
          - pinned.warnings | select('search', 'enableVmBehaviorOverrides') | list | length == 1
          - after.clusters[0].drs.vm_overrides_allowed
          - after.clusters[0].dsvas | selectattr('pinned') | list | length == 3
""")
    finally:
        spec = vim.cluster.ConfigSpecEx(drsConfig=vim.cluster.DrsConfigInfo(enableVmBehaviorOverrides=True))
        wait(cluster.ReconfigureComputeResource_Task(spec, True))


@pytest.mark.lab
def test_same_vm_names_are_never_guessed(lab, si, tmp_path):
    content = si.RetrieveContent()
    datacenter = content.rootFolder.childEntity[0]
    cluster = objects(si, vim.ClusterComputeResource)["Web-Cluster"]
    host = objects(si, vim.HostSystem)["esx-12.lab.local"]
    other_team = datacenter.vmFolder.CreateFolder("Other-Team")  # names are unique only within a folder
    twin = wait(other_team.CreateVM_Task(
        config=vim.vm.ConfigSpec(name="WEB2", guestId="otherGuest64", memoryMB=1024, numCPUs=1,
                                 files=vim.vm.FileInfo(vmPathName="[LabDatastore]")),
        pool=cluster.resourcePool, host=host)).result
    try:
        play(lab, tmp_path, """
    - clustersafe.deep_security.vsphere_host_evacuate:
        cluster: Web-Cluster
        host: esx-12.lab.local
        keep_vms: [WEB2]
      check_mode: true
      register: ambiguous
      ignore_errors: true
    - ansible.builtin.assert:
        that:
          - ambiguous is failed
          - "'not unique' in ambiguous.msg and 'keep_vms' in ambiguous.msg"
""")
    finally:
        wait(twin.Destroy_Task())
        wait(other_team.Destroy_Task())


@pytest.mark.lab
def test_rules_and_overrides_shape_the_plan(lab, si, tmp_path):
    clusters = objects(si, vim.ClusterComputeResource)
    vms = objects(si, vim.VirtualMachine)
    prod, web = clusters["Prod-Cluster"], clusters["Web-Cluster"]
    apart = vim.cluster.RuleSpec(operation="add", info=vim.cluster.AntiAffinityRuleSpec(
        name="sql-apart", enabled=True, vm=[vms["SQL-NODE1"], vms["SQL-NODE2"]]))
    assert wait(prod.ReconfigureComputeResource_Task(vim.cluster.ConfigSpecEx(rulesSpec=[apart]), True)).state == "success"
    automated = vim.cluster.DrsVmConfigSpec(operation="add", info=vim.cluster.DrsVmConfigInfo(
        key=vms["vdi-desktop-01"], enabled=True, behavior="fullyAutomated"))
    assert wait(web.ReconfigureComputeResource_Task(vim.cluster.ConfigSpecEx(drsVmConfigSpec=[automated]),
                                                    True)).state == "success"
    try:
        play(lab, tmp_path, """
    - clustersafe.deep_security.vsphere_host_evacuate:
        cluster: Prod-Cluster
        host: esx-01.lab.local
      check_mode: true
      register: plan
    - clustersafe.deep_security.vsphere_drs_window:
        cluster: Web-Cluster
        window: CHG-AUTO
        state: manual
      check_mode: true
      register: window
    - ansible.builtin.assert:
        that:
          - plan.moves | selectattr('vm', 'equalto', 'SQL-NODE1') | map(attribute='to') | list == ['esx-03.lab.local']
          - plan.drain_first == ['SQL-NODE1']
          - plan.warnings | select('search', 'drain') | list | length == 1
          - plan.warnings | select('search', 'fully automated DRS cluster') | list | length == 1
          - plan.left_alone | map(attribute='vm') | list == []
          - window.fully_automated_vms | map(attribute='vm') | list == ['vdi-desktop-01']
          - window.warnings | select('search', 'vdi-desktop-01') | list | length == 1
""")
    finally:
        key = [rule.key for rule in prod.configurationEx.rule if rule.name == "sql-apart"]
        if key:
            wait(prod.ReconfigureComputeResource_Task(vim.cluster.ConfigSpecEx(
                rulesSpec=[vim.cluster.RuleSpec(operation="remove", removeKey=key[0])]), True))
        wait(web.ReconfigureComputeResource_Task(vim.cluster.ConfigSpecEx(drsVmConfigSpec=[
            vim.cluster.DrsVmConfigSpec(operation="remove", removeKey=vms["vdi-desktop-01"])]), True))


@pytest.mark.lab
def test_restore_reports_a_vm_vcenter_will_not_move_back(lab, si, tmp_path):
    play(lab, tmp_path, """
    - clustersafe.deep_security.vsphere_host_evacuate:
        cluster: Web-Cluster
        host: esx-12.lab.local
        window: CHG-BACK
""")
    vms = objects(si, vim.VirtualMachine)
    hosts = objects(si, vim.HostSystem)
    web2 = vms["WEB2"]
    away = web2.runtime.host
    shared = web2.datastore[0]
    local_dir = tmp_path / "local-ds"
    local_dir.mkdir()
    local = away.configManager.datastoreSystem.CreateLocalDatastore(
        name="%s-local-%d" % (away.name, int(time.time() * 1000)), path=str(local_dir))
    assert wait(web2.RelocateVM_Task(vim.vm.RelocateSpec(datastore=local))).state == "success"
    try:
        play(lab, tmp_path, """
    - clustersafe.deep_security.vsphere_host_evacuate:
        cluster: Web-Cluster
        host: esx-12.lab.local
        state: restored
      register: restored
    - clustersafe.deep_security.vsphere_cluster_info:
        clusters: [Web-Cluster]
      register: after
    - ansible.builtin.assert:
        fail_msg: "{{ restored | to_json }}"
        that:
          - restored is changed
          - restored is not skipped
          - restored.moves | map(attribute='vm') | list == ['vdi-desktop-02']
          - restored.not_moved_back | map(attribute='vm') | list == ['WEB2']
          - "'vCenter refuses the move' in restored.not_moved_back[0].reason"
          - after.clusters[0].hosts[1].evacuation is none
          - "'vdi-desktop-02' in after.clusters[0].hosts[1].powered_on_vms"
""")
    finally:
        wait(web2.RelocateVM_Task(vim.vm.RelocateSpec(datastore=shared)))
        wait(web2.RelocateVM_Task(vim.vm.RelocateSpec(host=hosts["esx-12.lab.local"])))


@pytest.mark.lab
def test_a_dsva_on_another_hosts_place_is_reported(lab, si, tmp_path):
    vms = objects(si, vim.VirtualMachine)
    hosts = objects(si, vim.HostSystem)
    dsva = vms["dsva-esx-13.lab.local"]
    # what HA's re-registration after a host failure leaves behind: esx-13's appliance running on esx-12
    assert wait(dsva.RelocateVM_Task(vim.vm.RelocateSpec(host=hosts["esx-12.lab.local"]))).state == "success"
    try:
        play(lab, tmp_path, """
    - clustersafe.deep_security.vsphere_cluster_info:
        clusters: [Web-Cluster]
      register: info
    - ansible.builtin.assert:
        that:
          - info.clusters[0].dsvas | selectattr('on_foreign_host') | map(attribute='name') | list == ['dsva-esx-13.lab.local']
          - info.clusters[0].dsvas | selectattr('on_foreign_host') | map(attribute='home_host') | list == ['esx-13.lab.local']
          - info.warnings | select('search', 'dsva-esx-13.lab.local of cluster Web-Cluster runs on esx-12.lab.local') | list | length == 1
""")
    finally:
        wait(dsva.RelocateVM_Task(vim.vm.RelocateSpec(host=hosts["esx-13.lab.local"])))
