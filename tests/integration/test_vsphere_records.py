"""Who may write a vCenter record, against the lab: the collection's attributes carry a privilege policy that keeps
an account holding only Global.SetCustomField out of setCustomValue, and a record such an account writes all the
same (through CustomFieldsManager.SetField, which the API reference documents with Global.SetCustomField only) is
refused by ``ansible-playbook playbooks/recover.yml``: nothing it names is done, and it stays for someone to look at.

vCenter's state is prepared and read with pyVmomi directly, as the lab's other accounts (topology
vcenter.accounts: ``tagger`` holds Global.SetCustomField and read privileges, ``vi-admin`` is an administrator other
than the collection's account)."""
import datetime
import json
import ssl

import pytest
import yaml

from test_playbooks import run_playbook
from test_vsphere_windows import vcenter_state
from test_wsfc_window import INVENTORY, RECOVER, assert_no_secret

HOST = "esx-13.lab.local"  # Web-Cluster: WEB3, its DSVA


def account(lab, name):
    with open(lab["CLUSTERSAFE_LAB_TOPOLOGY"]) as handle:
        topology = yaml.safe_load(handle)
    return [item for item in topology["vcenter"]["accounts"] if item["username"].startswith(name)][0]


def connect(lab, name=None):
    from pyVim.connect import SmartConnect
    user, password = lab["VMWARE_USER"], lab["VMWARE_PASSWORD"]
    if name:
        found = account(lab, name)
        user, password = found["username"], found["password"]
    context = ssl.create_default_context(cafile=lab["SSL_CERT_FILE"])
    return SmartConnect(host=lab["VMWARE_HOST"], port=int(lab["VMWARE_PORT"]), user=user, pwd=password, sslContext=context)


def objects(service, kind):
    content = service.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [kind], True)
    try:
        return dict((item.name, item) for item in view.view)
    finally:
        view.Destroy()


def wait(task):
    from pyVim.task import WaitForTask
    WaitForTask(task)
    return task


def ok(result):
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20000:]
    return output


def create_attributes(lab, tmp_path):
    """The collection creates its attributes the first time it writes a record (an evacuation of esx-12 and back)."""
    playbook = tmp_path / "first_record.yml"
    playbook.write_text("""---
- name: A first evacuation record and its restore
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Evacuate esx-12
      clustersafe.deep_security.vsphere_host_evacuate:
        cluster: Web-Cluster
        host: esx-12.lab.local
        window: CHG-FIRST
    - name: Put it back
      clustersafe.deep_security.vsphere_host_evacuate:
        cluster: Web-Cluster
        host: esx-12.lab.local
        state: restored
    - name: Hold DRS of Web-Cluster and give it back
      clustersafe.deep_security.vsphere_drs_window:
        cluster: Web-Cluster
        window: CHG-FIRST
        state: "{{ item }}"
      loop: [manual, restored]
""")
    ok(run_playbook(lab, str(playbook)))


def field(service, name, kind):
    return [item for item in service.RetrieveContent().customFieldsManager.field
            if item.name == name and item.managedObjectType == kind][0]


def since(minutes_ago):
    moment = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=minutes_ago)
    return moment.replace(microsecond=0).isoformat()


@pytest.mark.lab
def test_a_forged_evacuation_record_is_refused_by_recover(fresh_lab, tmp_path):
    from pyVim.connect import Disconnect
    from pyVmomi import vim
    lab = fresh_lab
    create_attributes(lab, tmp_path)
    collection = connect(lab)
    admin = connect(lab, "vi-admin")
    tagger = connect(lab, "tagger")
    try:
        definition = field(collection, "clustersafe.evacuation", vim.HostSystem)
        # the attribute the collection created carries the policy of the privilege its record drives
        assert definition.fieldInstancePrivileges.updatePrivilege == "Host.Config.Maintenance"

        # an administrator of their own takes esx-13 out: WEB3 moved away, the DSVA shut down (quarantined), maintenance mode
        hosts, vms = objects(admin, vim.HostSystem), objects(admin, vim.VirtualMachine)
        wait(vms["WEB3"].RelocateVM_Task(vim.vm.RelocateSpec(host=hosts["esx-12.lab.local"])))
        wait(vms["dsva-esx-13.lab.local"].PowerOffVM_Task())
        wait(hosts[HOST].EnterMaintenanceMode_Task(timeout=60))
        before = vcenter_state(lab)
        assert before["hosts"][HOST]["maintenance"] is True

        forged = {"window": "CHG-FORGED", "cluster": "Web-Cluster", "owner": "ops", "since": since(10), "maintenance": True,
                  "moved": [{"vm": "WEB3", "moid": vms["WEB3"]._moId, "to": "esx-12.lab.local"},
                            {"vm": "vdi-desktop-01", "moid": vms["vdi-desktop-01"]._moId, "to": "esx-11.lab.local"}],
                  "powered_off": [{"vm": "dsva-esx-13.lab.local", "moid": vms["dsva-esx-13.lab.local"]._moId}]}
        tagger_host = objects(tagger, vim.HostSystem)[HOST]
        with pytest.raises(vim.fault.NoPermission) as caught:
            tagger_host.setCustomValue(key="clustersafe.evacuation", value=json.dumps(forged))
        assert caught.value.privilegeId == "Host.Config.Maintenance"
        # SetField asks Global.SetCustomField only: the forged record lands
        tagger.RetrieveContent().customFieldsManager.SetField(entity=tagger_host, key=definition.key, value=json.dumps(forged))
        written = vcenter_state(lab)
        assert json.loads(written["hosts"][HOST]["custom"]["clustersafe.evacuation"])["window"] == "CHG-FORGED"
    finally:
        for service in (collection, admin, tagger):
            Disconnect(service)

    result = run_playbook(lab, RECOVER, "-i", INVENTORY, "-e", '{"recover_windows_hosts": []}')
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-20000:]
    assert_no_secret(lab, output)
    assert "cannot be tied to what this vCenter account did" in output
    assert "maintenance mode: the host was put into maintenance mode by VSPHERE.LOCAL" in output and "vi-admin, not by" in output
    assert "dsva-esx-13.lab.local: vCenter's events show no shutdown of it by this account" in output
    assert "vdi-desktop-01: vCenter's events show no migration of it off this host" in output
    # nothing the record names was done, and the record is left for someone to look at
    after = vcenter_state(lab)
    assert after == written, (after, written)


@pytest.mark.lab
def test_a_forged_drs_record_does_not_set_drs(fresh_lab, tmp_path):
    from pyVim.connect import Disconnect
    from pyVmomi import vim
    lab = fresh_lab
    create_attributes(lab, tmp_path)
    collection, admin, tagger = connect(lab), connect(lab, "vi-admin"), connect(lab, "tagger")
    try:
        definition = field(collection, "clustersafe.drs_window", vim.ClusterComputeResource)
        assert definition.fieldInstancePrivileges.updatePrivilege == "Host.Inventory.EditCluster"
        # an administrator sets DRS of Web-Cluster to manual for work of their own
        cluster = objects(admin, vim.ClusterComputeResource)["Web-Cluster"]
        spec = vim.cluster.ConfigSpecEx(drsConfig=vim.cluster.DrsConfigInfo(defaultVmBehavior="manual"))
        wait(cluster.ReconfigureComputeResource_Task(spec=spec, modify=True))
        forged = {"window": "CHG-DRS", "original_level": "fullyAutomated", "owner": "ops", "since": since(30)}
        tagger_cluster = objects(tagger, vim.ClusterComputeResource)["Web-Cluster"]
        with pytest.raises(vim.fault.NoPermission):
            tagger_cluster.setCustomValue(key="clustersafe.drs_window", value=json.dumps(forged))
        tagger.RetrieveContent().customFieldsManager.SetField(entity=tagger_cluster, key=definition.key, value=json.dumps(forged))
        written = vcenter_state(lab)
    finally:
        for service in (collection, admin, tagger):
            Disconnect(service)

    result = run_playbook(lab, RECOVER, "-i", INVENTORY, "-e", '{"recover_windows_hosts": []}')
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-20000:]
    assert "says to put back fullyAutomated" in output and "vi-admin reconfigured the cluster at" in output
    after = vcenter_state(lab)
    assert after["clusters"]["Web-Cluster"]["drs"] == "manual" and after == written
