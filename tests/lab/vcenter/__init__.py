"""The lab's simulated vCenter: a small Go program on the govmomi simulator library."""
