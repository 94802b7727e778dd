package simulator

// VirtualMachineProvisioningChecker.CheckRelocate_Task, which govmomi 0.24 lacks. vCenter runs the
// migration checks without migrating and reports each problem as a CheckResult error (vSphere Web
// Services API: vim.vm.check.ProvisioningChecker.checkRelocate, vim.vm.check.Result). The lab models the
// problems the collection's evacuation depends on: target host state, storage the target cannot reach
// (a VM on another host's local datastore), and mandatory VM-host rules. RelocateVM_Task runs the same
// checks and fails with the first error, as a real migration does.

import (
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// LabProvisioningChecker is the service content's vmProvisioningChecker.
type LabProvisioningChecker struct {
	mo.VirtualMachineProvisioningChecker
}

// labRegisterChecker replaces the method-less placeholder the VPX model registers for the checker.
func labRegisterChecker() {
	ref := Map.content().VmProvisioningChecker
	if ref == nil {
		return
	}
	checker := &LabProvisioningChecker{}
	checker.Self = *ref
	Map.Put(checker)
}

func labFault(fault types.BaseMethodFault, msg string) types.LocalizedMethodFault {
	return types.LocalizedMethodFault{Fault: fault, LocalizedMessage: msg}
}

func labDatastoreMounted(ds *Datastore, host types.ManagedObjectReference) bool {
	for _, mount := range ds.Host {
		if mount.Key == host {
			return mount.MountInfo.Accessible == nil || *mount.MountInfo.Accessible
		}
	}
	return false
}

// labMigrationErrors lists why vm cannot run on target with the given datastore (nil: its own).
func labMigrationErrors(vm *VirtualMachine, target *HostSystem, datastore *types.ManagedObjectReference) []types.LocalizedMethodFault {
	var errs []types.LocalizedMethodFault
	if target.Runtime.ConnectionState != types.HostSystemConnectionStateConnected || target.Runtime.InMaintenanceMode {
		errs = append(errs, labFault(&types.InvalidHostState{Host: &target.Self},
			"The operation is not allowed in the current state of the host "+target.Name+"."))
	}
	stores := vm.Datastore
	if datastore != nil {
		stores = []types.ManagedObjectReference{*datastore}
	}
	for _, ref := range stores {
		ds, ok := Map.Get(ref).(*Datastore)
		if !ok || labDatastoreMounted(ds, target.Self) {
			continue
		}
		name := ds.Name
		errs = append(errs, labFault(&types.DatastoreNotWritableOnHost{
			InvalidDatastore: types.InvalidDatastore{Datastore: &ds.Self, Name: name}, Host: target.Self},
			"The datastore '"+name+"' of "+vm.Name+" is not accessible from host "+target.Name+"."))
	}
	if cluster, ok := Map.Get(*target.Parent).(*ClusterComputeResource); ok {
		cfg := cluster.ConfigurationEx.(*types.ClusterConfigInfoEx)
		groups := map[string][]types.ManagedObjectReference{}
		for _, g := range cfg.Group {
			switch group := g.(type) {
			case *types.ClusterVmGroup:
				groups[group.Name] = group.Vm
			case *types.ClusterHostGroup:
				groups[group.Name] = group.Host
			}
		}
		for _, r := range cfg.Rule {
			rule, ok := r.(*types.ClusterVmHostRuleInfo)
			if !ok || !isTrue(rule.Enabled) || !isTrue(rule.Mandatory) || FindReference(groups[rule.VmGroupName], vm.Self) == nil {
				continue
			}
			inAffine := rule.AffineHostGroupName != "" && FindReference(groups[rule.AffineHostGroupName], target.Self) != nil
			inAnti := rule.AntiAffineHostGroupName != "" && FindReference(groups[rule.AntiAffineHostGroupName], target.Self) != nil
			if (rule.AffineHostGroupName != "" && !inAffine) || inAnti {
				errs = append(errs, labFault(&types.VmHostAffinityRuleViolation{VmName: vm.Name, HostName: target.Name},
					"The virtual machine "+vm.Name+" violates the mandatory VM-host rule '"+rule.Name+"' on host "+target.Name+"."))
			}
		}
	}
	return errs
}

// CheckRelocateTask answers with one CheckResult for the VM and its target host.
func (c *LabProvisioningChecker) CheckRelocateTask(ctx *Context, req *types.CheckRelocate_Task) soap.HasFault {
	body := &methods.CheckRelocate_TaskBody{}
	vm, ok := Map.Get(req.Vm).(*VirtualMachine)
	if !ok {
		body.Fault_ = Fault("The object has already been deleted or has not been completely created",
			&types.ManagedObjectNotFound{Obj: req.Vm})
		return body
	}
	task := CreateTask(vm, "checkRelocateTask", nil) // vCenter shows the check on the VM
	labStartTask(task)
	var target *HostSystem
	if req.Spec.Host != nil {
		target, ok = Map.Get(*req.Spec.Host).(*HostSystem)
		if !ok {
			labFinishTask(task, nil, &types.ManagedObjectNotFound{Obj: *req.Spec.Host},
				"The object has already been deleted or has not been completely created")
			body.Res = &types.CheckRelocate_TaskResponse{Returnval: task.Self}
			return body
		}
	} else if vm.Runtime.Host != nil {
		target, _ = Map.Get(*vm.Runtime.Host).(*HostSystem)
	}
	result := types.CheckResult{Vm: &vm.Self}
	if target != nil {
		host := target.Self
		result.Host = &host
		result.Error = labMigrationErrors(vm, target, req.Spec.Datastore)
	}
	labFinishTask(task, types.ArrayOfCheckResult{CheckResult: []types.CheckResult{result}}, nil, "")
	body.Res = &types.CheckRelocate_TaskResponse{Returnval: task.Self}
	return body
}
