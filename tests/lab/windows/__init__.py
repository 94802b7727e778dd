"""Simulated Windows nodes for the lab: a WinRM server per node and a Python model of the failover
cluster, the NLB farm and the Deep Security Agent behind it."""
