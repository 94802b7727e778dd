# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the window actions (``wsfc_window``, ``nlb_window``, ``window_recover``) share: their options from the
role's variables (``<role>_<option>``, the role's defaults included) and the task's own arguments, each node's
WinRM settings from the inventory and the command line's credentials, the manager's and vCenter's settings
from ``module_defaults`` and the environment, the engine's run, the report files, AWX's ``set_stats``.

The action runs once (``run_once``) on the controller; it reaches every system over the network itself, so it
never uses the play host's connection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import tempfile
import threading
import time

from ansible import context
from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.clustersafe.deep_security.plugins.module_utils import window_lease
from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import CollectionError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.runner import scrub
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine import connection, report, settings as window_settings
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine.backend import Backend
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine.kinds import KINDS
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils import report_location

try:  # ansible-core 2.19 and later
    from ansible.executor.module_common import _apply_action_arg_defaults as _defaults_new
except ImportError:
    _defaults_new = None
try:  # ansible-core 2.16 to 2.18
    from ansible.executor.module_common import get_action_args_with_defaults as _defaults_old
except ImportError:
    _defaults_old = None

display = Display()

# The host variables the window reads from every inventory host (WinRM settings, the unit label, the VM name).
HOST_VARIABLES = tuple(name for _option, names in connection.WINRM_VARIABLES for name in names) + (
    "ansible_winrm_transport", "ansible_winrm_server_cert_validation", "wsfc_agent_rollout_cluster",
    "nlb_agent_rollout_farm", "wsfc_agent_rollout_vm_name")
DSM_ACTION = "clustersafe.deep_security.dsm_computer_info"
VSPHERE_ACTION = "clustersafe.deep_security.vsphere_cluster_info"


def module_defaults(action, task, templar):
    """The task's ``module_defaults`` for ``action`` (its action groups included), templated."""
    if _defaults_new is not None:
        return _defaults_new(action, task, {}, templar)
    return _defaults_old(action, {}, task.module_defaults, templar, action_groups=task._parent._play._action_groups)


class WindowActionBase(ActionBase):
    """Shared run of the window actions; ``role`` names the role whose variables hold the options."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False
    role = None

    # --- inputs ------------------------------------------------------------------------------------------

    def _template(self, value):
        return self._templar.template(value)

    def role_values(self, task_vars, role, spec, arguments=()):
        """option -> value from the ``<role>_<option>`` variables; the task's own arguments may only be
        ``arguments`` (the role's entry points set them)."""
        values = {}
        for name in spec:
            variable = "%s_%s" % (role, name)
            if variable in task_vars:
                values[name] = self._template(task_vars[variable])
        for name, value in (self._task.args or {}).items():
            if name not in arguments:
                raise CollectionError("unsupported parameter %s: the window's settings are the role's variables; set "
                                      "%s_%s instead" % (name, role, name))
            values[name] = self._template(value)
        return values

    def inventory(self, task_vars):
        """Every inventory host's window variables, read once here (templating stays in this thread)."""
        hostvars = task_vars.get("hostvars") or {}
        out = {}
        for host in hostvars:
            variables = hostvars[host]
            out[host] = dict((name, self._template(variables[name])) for name in HOST_VARIABLES if name in variables)
            out[host]["inventory_hostname"] = host
        return out

    def node_params_factory(self, inventory, overrides):
        """``host`` -> (WinRM parameters, their sources), with the command line's credentials as the fallback
        the inventory does not set (``-u`` and ``--ask-pass``, as AWX passes a Machine credential)."""
        args = context.CLIARGS or {}
        command_line = {"user": args.get("remote_user")}
        if args.get("ask_pass") and self._play_context.password:
            command_line["password"] = self._play_context.password

        def params(host):
            if host not in inventory:
                raise CollectionError("%s is not an inventory host" % host)
            return connection.node_params(host, inventory[host], overrides, command_line)
        return params, command_line

    def connection_settings(self):
        dsm = module_defaults(DSM_ACTION, self._task, self._templar)
        vsphere = module_defaults(VSPHERE_ACTION, self._task, self._templar)
        return dsm, vsphere

    def secrets(self, inventory, settings, dsm, vsphere, command_line):
        found = [command_line.get("password"), settings.get("token")]
        found += [variables.get(name) for variables in inventory.values()
                  for name in ("ansible_password", "ansible_winrm_password", "ansible_winrm_pass", "ansible_pass")]
        found += [dsm.get("api_key"), vsphere.get("password"), (settings.get("winrm_options") or {}).get("password")]
        for variable in ("WINRM_PASSWORD", "DSM_API_KEY", "VMWARE_PASSWORD"):
            found.append(os.environ.get(variable))
        return [secret for secret in found if isinstance(secret, str) and len(secret) >= 4]

    # --- outputs ------------------------------------------------------------------------------------------

    @staticmethod
    def report_dir(settings):
        return report_location.report_dir(settings.get("report_dir"))

    @staticmethod
    def write(directory, name, content):
        """One report file, written whole (a temporary file, then renamed), readable by its owner and group."""
        os.makedirs(directory, mode=0o750, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".%s." % name)
        try:
            with os.fdopen(handle, "w") as stream:
                stream.write(content)
            os.chmod(temporary, 0o640)
            os.replace(temporary, os.path.join(directory, name))
        except BaseException:
            if os.path.exists(temporary):
                os.remove(temporary)
            raise
        return os.path.join(directory, name)

    def write_reports(self, settings, kind, estate_kind, reports, unit_word, nlb=False):
        """Each unit's report (and the report across them when there are several) as JSON, Markdown and HTML."""
        directory = self.report_dir(settings)
        window = settings["window"]
        files = {}
        written = []
        several = len(reports) > 1
        for key, built in sorted(reports.items()):
            base = "%s-%s%s" % (window, ("%s-" % safe_name(key)) if several else "", built["kind"])
            files[key] = base + ".json"
            written.append(self.write(directory, base + ".json", json.dumps(built, indent=2, sort_keys=True) + "\n"))
            written.append(self.write(directory, base + ".md", report.report_markdown(built)))
            written.append(self.write(directory, base + ".html", report.report_html(built)))
        estate = None
        if several:
            estate = report.estate_report(estate_kind, window, reports, files=files,
                                          max_nodes_out=settings.get("max_nodes_out"), check_mode=False, nlb=nlb)
            base = "%s-%s" % (window, estate_kind)
            markdowns = dict((key, report.report_markdown(built)) for key, built in reports.items())
            written.append(self.write(directory, base + ".json", json.dumps(estate, indent=2, sort_keys=True) + "\n"))
            written.append(self.write(directory, base + ".md", report.estate_markdown(estate, markdowns, unit_word)))
            written.append(self.write(directory, base + ".html", report.estate_html(estate, reports, unit_word)))
        return written, estate

    def fail_result(self, message):
        return {"failed": True, "changed": False, "msg": message}


def die_with_the_controller(interval=0.2):
    """Ansible's workers start a session of their own (WorkerProcess._detach calls os.setsid), so a controller
    killed outright would leave this worker running the window headless. A window must stop with its controller,
    as a crashed controller stops: the records on the systems tell recover, or a re-run, what to put back.
    Returns the check the engine also runs before each step; a thread runs it during long steps."""
    parent = os.getppid()

    def check():
        if os.getppid() != parent:
            os._exit(137)

    def watch():
        while True:
            time.sleep(interval)
            check()
    thread = threading.Thread(target=watch)
    thread.daemon = True
    thread.start()
    return check


def safe_name(key):
    """A unit's key as part of a file name."""
    return "".join(char if char.isalnum() or char in "._-" else "_" for char in str(key))[:64] or "unit"


def run_window(action, kind, task_vars):
    """The run of a rollout window action (``wsfc_window``, ``nlb_window``)."""
    from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine.engine import Window
    words = KINDS[kind]
    try:
        window_settings.check_no_unknown([name for name in task_vars if isinstance(name, str)], kind)
        values = action.role_values(task_vars, words.role, window_settings.SPECS[kind],
                                    arguments=("phase",) if kind == "nlb" else ())
        checked, warnings = window_settings.check(kind, values)
    except CollectionError as error:
        return action.fail_result("%s: %s" % (words.role, error.message))
    if not checked["nodes"]:
        play_hosts = [host for host in task_vars.get("ansible_play_hosts_all") or [] if host != "localhost"]
        checked["nodes"] = play_hosts
    check_mode = bool(action._task.check_mode if action._task.check_mode is not None else action._play_context.check_mode)
    inventory = action.inventory(task_vars)
    unknown = [host for host in checked["nodes"] if host not in inventory]
    if unknown:
        return action.fail_result("%s: %s_nodes names %s, not inventory hosts; nothing was read or changed"
                                  % (words.role, words.role, ", ".join(unknown)))
    node_params, command_line = action.node_params_factory(inventory, checked.get("winrm_options"))
    dsm, vsphere = action.connection_settings()
    secrets = action.secrets(inventory, checked, dsm, vsphere, command_line)

    def say(text):
        display.display(scrub(text, secrets))

    alive = die_with_the_controller()
    backend = Backend(node_params, dsm_params=dsm, vsphere_params=vsphere)
    engine = Window(kind, checked, backend, hostvars=inventory, say=say, check_mode=check_mode, alive=alive)
    outcome = engine.run_window()
    reports = outcome["reports"]
    unit_word = "cluster" if kind == "wsfc" else "farm"
    phase = checked.get("phase", "rollout")
    estate_kind = words.estate_kind if phase == "rollout" else "nlb_inline_estate"
    result = {"changed": False, "run": outcome["run"], "warnings": warnings + outcome["warnings"]}
    written, estate = [], None
    if not check_mode:
        try:
            written, estate = action.write_reports(checked, kind, estate_kind, reports, unit_word, nlb=kind == "nlb")
        except OSError as error:
            result["warnings"].append("the window reports could not be written to %s: %s"
                                      % (action.report_dir(checked), error))
    elif len(reports) > 1:
        estate = report.estate_report(estate_kind, checked["window"], reports, check_mode=True, nlb=kind == "nlb",
                                      max_nodes_out=checked.get("max_nodes_out"))
    for key, built in sorted(reports.items()):
        for line in report.report_markdown(built).splitlines():
            say(line)
    results = [built["result"] for built in reports.values()]
    overall = estate["result"] if estate else (results[0] if results else "refused")
    changed_nodes = sum(built["summary"]["changed"] for built in reports.values())
    result.update(
        changed=bool(changed_nodes) or (check_mode and any(built.get("order") for built in reports.values())),
        result=overall, reports=dict((key, report.stats(built)) for key, built in reports.items()),
        report_files=written, check_mode=check_mode,
        ansible_stats={"data": _stats(words, phase, reports, estate), "per_host": False, "aggregate": True})
    if overall not in ("succeeded", "planned") and checked.get("fail_when_incomplete", True):
        why = ["%s: %s" % (key, report._why(built)) for key, built in sorted(reports.items())
               if built["result"] not in ("succeeded", "planned")]
        if overall == "refused":
            opening = "window %s refused before any change" % checked["window"]
        else:
            opening = "window %s did not complete: %s" % (checked["window"], overall)
        result.update(failed=True, msg=scrub("%s; %s%s" % (
            opening, " / ".join(why), ("; see the reports in %s" % action.report_dir(checked)) if written else ""),
            secrets))
    else:
        result["msg"] = "window %s: %s" % (checked["window"], overall)
    return result


def _stats(words, phase, reports, estate):
    key = words.stats_key if phase == "rollout" else "nlb_inline"
    if estate is None:
        return {key: report.stats(list(reports.values())[0])} if reports else {}
    data = {key + ("_clusters" if words.name == "wsfc" else "_farms"):
            dict((name, report.stats(built)) for name, built in reports.items())}
    data[estate["kind"]] = dict(estate["summary"], window=estate["window"], kind=estate["kind"])
    return data


__all__ = ["WindowActionBase", "run_window", "AnsibleError"]


def _vsphere_entry(item, change, check_mode):
    """What recover put back on vCenter, as a report entry (item: a cluster, or (cluster, host))."""
    if isinstance(item, tuple):
        cluster, host = item
        record = host.get("evacuation") or {}
        system = "%s/%s" % (cluster.get("name"), host.get("name"))
    else:
        record = item.get("drs_window") or {}
        system = item.get("name")
    return {"system": system, "window": record.get("window"), "change": change, "since": record.get("since"),
            "controller": record.get("owner"), "result": "would put back" if check_mode else "put back"}


def run_recover(action, task_vars):
    """The run of ``window_recover``: the Windows nodes through the engine, then vCenter through the modules."""
    from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine.recover import Recover
    try:
        window_settings.check_no_unknown_recover([name for name in task_vars if isinstance(name, str)])
        values = action.role_values(task_vars, "recover", window_settings.RECOVER_SPEC)
        checked = window_settings.check_recover(values)
    except CollectionError as error:
        return action.fail_result("recover: %s" % error.message)
    check_mode = bool(action._task.check_mode if action._task.check_mode is not None else action._play_context.check_mode)
    inventory = action.inventory(task_vars)
    unknown = [host for host in checked["windows_hosts"] + checked["discard_hosts"] if host not in inventory]
    if unknown:
        return action.fail_result("recover: recover_windows_hosts and recover_discard_hosts must be inventory hosts; "
                                  "unknown: %s; nothing was read or changed" % ", ".join(unknown))
    node_params, command_line = action.node_params_factory(inventory, checked.get("winrm_options"))
    dsm, vsphere = action.connection_settings()
    secrets = action.secrets(inventory, checked, dsm, vsphere, command_line)

    def say(text):
        display.display(scrub(text, secrets))

    die_with_the_controller()
    backend = Backend(node_params, dsm_params=dsm, vsphere_params=vsphere)
    outcome = Recover(checked, backend, hostvars=inventory, say=say, check_mode=check_mode).run_recover()
    put_back, failed = list(outcome["put_back"]), list(outcome["failed"])
    refused = outcome["refused"]
    if checked["vsphere"]:
        put_back_vcenter, failed_vcenter, refused_vcenter = _recover_vcenter(action, checked, task_vars, vsphere, check_mode,
                                                                             outcome["live_windows"])
        refused += refused_vcenter
        put_back += put_back_vcenter
        failed += failed_vcenter
    for entry in put_back:
        say("%s: %s/%s %s" % (entry["system"], entry["window"], entry["change"], entry["result"]))
    result = {"changed": bool(put_back) and not check_mode, "put_back": put_back, "refused": refused, "failed": failed,
              "run": outcome["run"],
              "msg": ("recover %s %d change(s)" % ("would put back" if check_mode else "put back", len(put_back)))
              if put_back else "recover found nothing a window left behind",
              "ansible_stats": {"data": {"recover": {"check_mode": check_mode, "put_back": put_back, "refused": refused,
                                                     "failed": failed}}, "per_host": False}}
    if refused or failed:
        result.update(failed=True, msg=scrub("recover could not put back everything: %s. Their records stay on them; run "
                                             "recover again once the cause is fixed" % "; ".join(
                                                 "%s: %s" % (item["system"], item["message"]) for item in refused + failed),
                                             secrets))
    return result


def _recover_vcenter(action, checked, task_vars, vsphere, check_mode, live_windows=()):
    """DRS levels and host evacuations from the records on vCenter, through the vSphere modules (their services
    check every record before they act on it). A record of a window that still holds a lease recover found is
    left alone: that window runs."""
    def module(name, arguments):
        return action._execute_module(module_name="clustersafe.deep_security.%s" % name,
                                      module_args=dict(vsphere, **arguments), task_vars=task_vars)
    put_back, failed, refused = [], [], []
    read = module("vsphere_cluster_info", {"clusters": checked["vsphere_clusters"]})
    if read.get("failed"):
        return [], [{"system": "vCenter", "message": read.get("msg")}], []

    def live(record, system):
        if str(record.get("window") or "").lower() in live_windows:
            refused.append({"system": system, "message": "window %s still runs (it holds a lease recover found): its "
                            "record is left alone" % record.get("window")})
            return True
        return False
    window = checked["window"]
    # recover_take_over names a run (or "unreadable", which only a Windows lease can be)
    take_over_run = checked.get("take_over") if window_lease.RUN_PATTERN.match(checked.get("take_over") or "") else None
    for cluster in read.get("clusters") or []:
        for host in cluster.get("hosts") or []:
            record = host.get("evacuation")
            if not record or (window and record.get("window") != window):
                continue
            if live(record, "%s/%s" % (cluster["name"], host["name"])):
                continue
            outcome = module("vsphere_host_evacuate", {"cluster": cluster["name"], "host": host["name"], "state": "restored",
                                                       "timeout": checked["timeout"]})
            if outcome.get("failed"):
                failed.append({"system": "%s/%s" % (cluster["name"], host["name"]), "message": outcome.get("msg")})
            else:
                put_back.append(_vsphere_entry((cluster, host), "host_evacuation", check_mode))
    for cluster in read.get("clusters") or []:
        record = cluster.get("drs_window")
        if not record or (window and record.get("window") != window):
            continue
        if live(record, cluster["name"]):
            continue
        # a record whose lease runs by vCenter's clock is a window that still runs: the service refuses it
        # (naming the run to take over), and that is a refusal, not a failure
        outcome = module("vsphere_drs_window", {"cluster": cluster["name"], "window": record.get("window"),
                                                "state": "restored", "respect_lease": True,
                                                "take_over": take_over_run})
        if outcome.get("failed") and outcome.get("expires"):
            refused.append({"system": cluster["name"], "message": outcome.get("msg")})
        elif outcome.get("failed"):
            failed.append({"system": cluster["name"], "message": outcome.get("msg")})
        else:
            put_back.append(_vsphere_entry(cluster, "drs_window", check_mode))
    return put_back, failed, refused
