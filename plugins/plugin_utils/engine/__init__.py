# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The window engine: one maintenance window of a kind (failover clusters, NLB farms) across an estate.

Split by concern, each part with its own unit tests:

- ``kinds``: the words and variables of each kind of window;
- ``settings``: the options of a window (one spec; the roles' argument specs mirror it) and their checks;
- ``connection``: each node's WinRM options from its inventory variables, and where each came from;
- ``plan``: the ordered plan of a failover cluster or an NLB farm and what blocks it (pure);
- ``schedule``: rounds across clusters, the estate-wide cap, who holds and releases DRS (pure);
- ``decide``: what to do after a failure, which records to undo and how, who owns a cluster (pure);
- ``lease``: a window's lease on a cluster, decided in Python, swapped atomically on the node (pure);
- ``report``: the window report and the estate report, one escaping rule for every Markdown and HTML value;
- ``backend``: the I/O, through the collection's services (the same code the modules run);
- ``engine``: the sequence, over a backend: gather, heal, plan, hold, rounds, put back, report.

The action plugins (``wsfc_window``, ``nlb_window``, ``window_recover``) hand the engine its settings and a
backend, and the roles call those actions.
"""
