package simulator

// Power-on placement and VMware Tools as vCenter reports them.
//
// VirtualMachine.PowerOnVM_Task (vSphere Web Services API reference): "If this virtual machine is in a DRS
// cluster, DRS will be invoked if the virtual machine can be automatically placed by DRS", and its `host`
// argument names where to power it on ("If this host is not compatible, the current host association is
// used"). DRS places a VM at power-on when its behaviour is partiallyAutomated ("should automatically
// implement only the placement at power on") or fullyAutomated (vim.cluster.DrsConfigInfo.DrsBehavior), and
// not when a per-VM override excludes it (vim.cluster.DrsVmConfigInfo.enabled false). The 0.24 simulator
// powered every VM on where it was registered.
//
// VMware Tools start with the guest, after the power-on: guest.toolsRunningStatus reads guestToolsNotRunning
// until LabToolsStartDelay has passed (vim.vm.GuestInfo.ToolsRunningStatus). The simulator left it as it was.

import (
	"time"

	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// LabToolsStartDelay is how long a guest takes from power-on until VMware Tools run.
var LabToolsStartDelay = 2 * time.Second

// labDrsPlacesAtPowerOn: does DRS choose the host when this VM powers on without one named?
func labDrsPlacesAtPowerOn(cluster *ClusterComputeResource, vm types.ManagedObjectReference) bool {
	cfg := cluster.ConfigurationEx.(*types.ClusterConfigInfoEx)
	if !isTrue(cfg.DrsConfig.Enabled) {
		return false
	}
	behavior := cfg.DrsConfig.DefaultVmBehavior
	if cfg.DrsConfig.EnableVmBehaviorOverrides == nil || *cfg.DrsConfig.EnableVmBehaviorOverrides {
		for _, o := range cfg.DrsVmConfig {
			if o.Key != vm {
				continue
			}
			if o.Enabled != nil && !*o.Enabled {
				return false
			}
			if o.Behavior != "" {
				behavior = o.Behavior
			}
		}
	}
	return behavior == types.DrsBehaviorPartiallyAutomated || behavior == types.DrsBehaviorFullyAutomated
}

// labSetTools sets the guest's VMware Tools state and tells property collectors.
func labSetTools(vm *VirtualMachine, running bool) {
	status := string(types.VirtualMachineToolsRunningStatusGuestToolsNotRunning)
	guestState := "notRunning"
	if running {
		status = string(types.VirtualMachineToolsRunningStatusGuestToolsRunning)
		guestState = "running"
	}
	vm.Guest.ToolsRunningStatus = status
	vm.Guest.GuestState = guestState
	if vm.Summary.Guest != nil {
		vm.Summary.Guest.ToolsRunningStatus = status
	}
	labNotifyChanges(vm,
		types.PropertyChange{Name: "guest.toolsRunningStatus", Val: status},
		types.PropertyChange{Name: "guest.guestState", Val: guestState})
}

func (vm *VirtualMachine) labPowerOn(ctx *Context, req *types.PowerOnVM_Task) (types.BaseMethodFault, string) {
	if vm.Config.Template {
		return &types.InvalidState{}, "cannot power on a template"
	}
	if vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn {
		return &types.InvalidPowerState{RequestedState: types.VirtualMachinePowerStatePoweredOn,
			ExistingState: vm.Runtime.PowerState}, "The attempted operation cannot be performed in the current state (Powered on)."
	}
	current, ok := Map.Get(*vm.Runtime.Host).(*HostSystem)
	if !ok {
		return &types.InvalidState{}, "The virtual machine has no host."
	}
	target := current
	cluster, inCluster := Map.Get(*current.Parent).(*ClusterComputeResource)
	if req.Host != nil {
		if h, ok := Map.Get(*req.Host).(*HostSystem); ok && h.Parent != nil && *h.Parent == *current.Parent && labHostUsable(h) {
			target = h
		}
	} else if inCluster && labDrsPlacesAtPowerOn(cluster, vm.Self) {
		if best := labPickTarget(cluster, types.ManagedObjectReference{}); best != nil {
			target = best
		}
	}
	if !labHostUsable(target) {
		return &types.InvalidHostState{Host: &target.Self}, "The operation is not allowed in the current state of the host."
	}
	if target != current {
		labMoveVM(vm, target, nil)
	}
	now := time.Now()
	vm.Runtime.PowerState = types.VirtualMachinePowerStatePoweredOn
	vm.Runtime.BootTime = &now
	vm.Summary.Runtime = vm.Runtime
	labNotifyChanges(vm,
		types.PropertyChange{Name: "runtime.powerState", Val: vm.Runtime.PowerState},
		types.PropertyChange{Name: "summary.runtime.powerState", Val: vm.Runtime.PowerState})
	labSetTools(vm, false)
	event := vm.event()
	ctx.postEvent(&types.VmStartingEvent{VmEvent: event}, &types.VmPoweredOnEvent{VmEvent: event})
	go func() {
		time.Sleep(LabToolsStartDelay)
		Map.WithLock(vm, func() {
			if vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn && vm.Runtime.BootTime != nil && vm.Runtime.BootTime.Equal(now) {
				labSetTools(vm, true)
			}
		})
	}()
	return nil, ""
}

// PowerOnVMTask powers the VM on where `host` says, or where DRS places it, with Tools starting later.
func (vm *VirtualMachine) PowerOnVMTask(ctx *Context, req *types.PowerOnVM_Task) soap.HasFault {
	task := CreateTask(vm, "powerOnVMTask", nil)
	labStartTask(task)
	fault, msg := vm.labPowerOn(ctx, req)
	labFinishTask(task, nil, fault, msg)
	return &methods.PowerOnVM_TaskBody{Res: &types.PowerOnVM_TaskResponse{Returnval: task.Self}}
}

// PowerOffVMTask stops the VM; its Tools stop with it.
func (vm *VirtualMachine) PowerOffVMTask(ctx *Context, req *types.PowerOffVM_Task) soap.HasFault {
	res := vm.simPowerOffVMTask(ctx, req)
	if vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOff {
		labSetTools(vm, false)
	}
	return res
}

// ShutdownGuest stops the guest (the simulator powers it off at once); its Tools stop with it.
// Without running Tools vCenter answers ToolsUnavailable (VirtualMachine.ShutdownGuest, faults).
func (vm *VirtualMachine) ShutdownGuest(ctx *Context, req *types.ShutdownGuest) soap.HasFault {
	if vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn &&
		vm.Guest.ToolsRunningStatus != string(types.VirtualMachineToolsRunningStatusGuestToolsRunning) {
		return &methods.ShutdownGuestBody{Fault_: Fault("Cannot complete operation because VMware Tools is not running in this virtual machine.",
			&types.ToolsUnavailable{})}
	}
	res := vm.simShutdownGuest(ctx, req)
	if vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOff {
		labSetTools(vm, false)
	}
	return res
}

// SetCustomValue on a VM, with the field's privilege policy (lab_auth.go).
func (vm *VirtualMachine) SetCustomValue(ctx *Context, req *types.SetCustomValue) soap.HasFault {
	return labSetCustomValue(ctx, vm, req)
}
