"""The lab: everything the collection talks to, simulated on loopback from one topology file.

    labctl.py, labd.py        command-line tools: labctl starts/stops/resets the lab and writes
                              .lab/lab.env; labd is the one Python process serving the Windows and DSM parts
    world.py, pki.py          shared by the parts: the world (events and questions between the parts)
                              and the lab CA that issues every part's TLS certificate
    topology.yml              the simulated estate; inventory.yml and tasks/ are for playbooks run against it
    vcenter/                  simulated vCenter: a Go program over the govmomi simulator (launcher.py)
    windows/                  simulated Windows nodes: WinRM server, failover-cluster/NLB/agent model, part.py
    dsm/                      simulated Deep Security Manager: REST model, HTTPS server, part.py

``windows/`` and ``dsm/`` each keep their behaviour in ``model.py`` (no sockets), their wire protocol in
``server.py`` and their place in ``labd`` in ``part.py`` (``start(world)``: serve the model and register
the part for the control endpoint). The vCenter runs as its own process, started by ``labctl``.

The simulators' own tests live apart, in ``tests/lab_tests`` (each starts its own instance on its own
ports, so they run beside a running lab).
"""
