package simulator

// Maintenance mode and vMotion as a real vCenter does them: EnterMaintenanceMode waits while powered-on
// VMs remain on the host (DRS fullyAutomated moves the movable ones away), and RelocateVM really moves
// a VM between hosts (0.24 removed the target host from its own VM list and moved nothing).

import (
	"sort"
	"sync"
	"time"

	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// LabMaintenanceCap bounds EnterMaintenanceMode(timeout=0), which on vCenter would wait forever.
var LabMaintenanceCap = 300 * time.Second

const labMaintenancePoll = 200 * time.Millisecond

var labEntering = struct {
	sync.Mutex
	hosts map[types.ManagedObjectReference]bool
}{hosts: map[types.ManagedObjectReference]bool{}}

func labIsEntering(ref types.ManagedObjectReference) bool {
	labEntering.Lock()
	defer labEntering.Unlock()
	return labEntering.hosts[ref]
}

func labNotifyChanges(obj mo.Reference, changes ...types.PropertyChange) {
	val := getManagedObject(obj).Addr().Interface().(mo.Reference)
	for i := range changes {
		changes[i].Op = types.PropertyChangeOpAssign
	}
	Map.applyHandlers(func(o RegisterObject) {
		o.UpdateObject(val, changes)
	})
}

func labHostUsable(h *HostSystem) bool {
	return h.Runtime.ConnectionState == types.HostSystemConnectionStateConnected &&
		!h.Runtime.InMaintenanceMode && !labIsEntering(h.Self)
}

// labDrsMovable: may DRS migrate this VM on its own? Not when its override excludes it from DRS or
// asks for manual/partially automated behaviour (vCenter then only recommends). With
// drsConfig.enableVmBehaviorOverrides false the per-VM overrides are ignored and the cluster default
// applies (vim.cluster.DrsConfigInfo); the lab takes that on the strict side: every override is ignored.
func labDrsMovable(cfg *types.ClusterConfigInfoEx, vm types.ManagedObjectReference) bool {
	if cfg.DrsConfig.EnableVmBehaviorOverrides != nil && !*cfg.DrsConfig.EnableVmBehaviorOverrides {
		return true
	}
	for _, o := range cfg.DrsVmConfig {
		if o.Key != vm {
			continue
		}
		if o.Enabled != nil && !*o.Enabled {
			return false
		}
		return o.Behavior == "" || o.Behavior == types.DrsBehaviorFullyAutomated
	}
	return true
}

func labPickTarget(cluster *ClusterComputeResource, exclude types.ManagedObjectReference) *HostSystem {
	var best *HostSystem
	for _, ref := range cluster.Host {
		if ref == exclude {
			continue
		}
		h, ok := Map.Get(ref).(*HostSystem)
		if !ok || !labHostUsable(h) {
			continue
		}
		if best == nil || len(h.Vm) < len(best.Vm) {
			best = h
		}
	}
	return best
}

// labMoveVM re-homes a VM on another host (and, across clusters, into that cluster's root pool).
// Callers hold the VM's lock; host locks are taken one at a time, always after the VM's.
func labMoveVM(vm *VirtualMachine, target *HostSystem, pool *types.ManagedObjectReference) {
	if pool == nil && vm.ResourcePool != nil {
		if cr, ok := Map.Get(*target.Parent).(*ClusterComputeResource); ok {
			if cur, ok := Map.Get(*vm.ResourcePool).(mo.Entity); ok && Map.getEntityComputeResource(cur).Reference() != cr.Self {
				pool = cr.ResourcePool
			}
		}
	}
	if pool != nil && (vm.ResourcePool == nil || *vm.ResourcePool != *pool) {
		if vm.ResourcePool != nil {
			if old, ok := asResourcePoolMO(Map.Get(*vm.ResourcePool)); ok {
				Map.RemoveReference(Map.Get(*vm.ResourcePool), &old.Vm, vm.Self)
			}
		}
		if next, ok := asResourcePoolMO(Map.Get(*pool)); ok {
			Map.AddReference(Map.Get(*pool), &next.Vm, vm.Self)
		}
		ref := *pool
		vm.ResourcePool = &ref
		labNotifyChanges(vm, types.PropertyChange{Name: "resourcePool", Val: ref})
	}
	if vm.Runtime.Host != nil && *vm.Runtime.Host == target.Self {
		return
	}
	if vm.Runtime.Host != nil {
		if old, ok := Map.Get(*vm.Runtime.Host).(*HostSystem); ok {
			Map.RemoveReference(old, &old.Vm, vm.Self)
			labNotify(old, "vm")
		}
	}
	Map.AddReference(target, &target.Vm, vm.Self)
	labNotify(target, "vm")
	ref := target.Self
	vm.Runtime.Host = &ref
	host := ref
	vm.Summary.Runtime.Host = &host
	labNotifyChanges(vm,
		types.PropertyChange{Name: "runtime.host", Val: ref},
		types.PropertyChange{Name: "summary.runtime.host", Val: ref})
}

func (vm *VirtualMachine) labRelocate(ctx *Context, req *types.RelocateVM_Task) (types.BaseMethodFault, string) {
	spec := req.Spec
	var target *HostSystem
	if spec.Host != nil {
		h, ok := Map.Get(*spec.Host).(*HostSystem)
		if !ok {
			return &types.ManagedObjectNotFound{Obj: *spec.Host}, "The object has already been deleted or has not been completely created"
		}
		// The checks CheckRelocate_Task reports (lab_checker.go); a real migration fails on the first.
		if errs := labMigrationErrors(vm, h, spec.Datastore); len(errs) > 0 {
			return errs[0].Fault, errs[0].LocalizedMessage
		}
		target = h
	}
	if spec.Pool != nil {
		if _, ok := asResourcePoolMO(Map.Get(*spec.Pool)); !ok {
			return labInvalid("spec.pool", "A specified parameter was not correct: spec.pool")
		}
	}
	if spec.Datastore != nil {
		if _, ok := Map.Get(*spec.Datastore).(*Datastore); !ok {
			return labInvalid("spec.datastore", "A specified parameter was not correct: spec.datastore")
		}
	}
	if target == nil && spec.Pool != nil {
		// A pool alone moves the VM within its host's cluster; only re-pool it.
		if h, ok := Map.Get(*vm.Runtime.Host).(*HostSystem); ok {
			target = h
		}
	}
	if target != nil {
		source, _ := Map.Get(*vm.Runtime.Host).(*HostSystem)
		labMoveVM(vm, target, spec.Pool)
		if source != nil && source != target {
			// vCenter logs a migration as VmMigratedEvent, with the host the VM left (sourceHost).
			ctx.postEvent(&types.VmMigratedEvent{VmEvent: vm.event(), SourceHost: *source.eventArgument()})
		}
	}
	if ref := spec.Datastore; ref != nil && (len(vm.Datastore) != 1 || vm.Datastore[0] != *ref) {
		for _, old := range vm.Datastore {
			if ds, ok := Map.Get(old).(*Datastore); ok {
				Map.RemoveReference(ds, &ds.Vm, vm.Self)
			}
		}
		ds := Map.Get(*ref).(*Datastore)
		Map.AddReference(ds, &ds.Vm, vm.Self)
		vm.Datastore = []types.ManagedObjectReference{*ref}
		labNotify(vm, "datastore")
	}
	if ref := spec.Folder; ref != nil {
		if folder, ok := Map.Get(*ref).(*Folder); ok {
			folder.MoveIntoFolderTask(ctx, &types.MoveIntoFolder_Task{List: []types.ManagedObjectReference{vm.Self}})
		}
	}
	return nil, ""
}

// RelocateVMTask moves the VM: runtime.host and both hosts' vm lists follow.
func (vm *VirtualMachine) RelocateVMTask(ctx *Context, req *types.RelocateVM_Task) soap.HasFault {
	task := CreateTask(vm, "relocateVMTask", nil)
	labStartTask(task)
	fault, msg := vm.labRelocate(ctx, req)
	labFinishTask(task, nil, fault, msg)
	return &methods.RelocateVM_TaskBody{
		Res: &types.RelocateVM_TaskResponse{Returnval: task.Self},
	}
}

// labEvacuate lets DRS (if fully automated) move what it may; returns how many powered-on VMs remain.
func labEvacuate(h *HostSystem) int {
	var vms []*VirtualMachine
	Map.WithLock(h, func() {
		for _, ref := range h.Vm {
			if vm, ok := Map.Get(ref).(*VirtualMachine); ok && vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn {
				vms = append(vms, vm)
			}
		}
	})
	if len(vms) == 0 {
		return 0
	}
	cluster, ok := Map.Get(*h.Parent).(*ClusterComputeResource)
	if !ok {
		return len(vms)
	}
	cfg := cluster.ConfigurationEx.(*types.ClusterConfigInfoEx)
	if !isTrue(cfg.DrsConfig.Enabled) || cfg.DrsConfig.DefaultVmBehavior != types.DrsBehaviorFullyAutomated {
		return len(vms)
	}
	if !labFailoverKeptWithout(cluster, h) {
		// "DRS does not evacuate a host requested to enter maintenance mode ... Cause: vSphere HA is enabled
		// and evacuating this host might violate HA failover capacity" (vSphere Resource Management).
		return len(vms)
	}
	remaining := 0
	for _, vm := range vms {
		if !labDrsMovable(cfg, vm.Self) {
			remaining++
			continue
		}
		target := labPickTarget(cluster, h.Self)
		if target == nil {
			remaining++
			continue
		}
		moved := false
		Map.WithLock(vm, func() {
			// The VM may have been moved or powered off since we listed it.
			if vm.Runtime.Host != nil && *vm.Runtime.Host == h.Self && vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn {
				labMoveVM(vm, target, nil)
				moved = true
			}
		})
		if moved {
			internalContext.postEvent(&types.DrsVmMigratedEvent{VmMigratedEvent: types.VmMigratedEvent{
				VmEvent: vm.event(), SourceHost: *h.eventArgument()}})
		}
	}
	return remaining
}

func labSetMaintenance(h *HostSystem, on bool) {
	Map.WithLock(h, func() {
		h.Runtime.InMaintenanceMode = on
		h.Summary.Runtime = &h.Runtime
	})
	labNotifyChanges(h,
		types.PropertyChange{Name: "runtime.inMaintenanceMode", Val: on},
		types.PropertyChange{Name: "summary.runtime.inMaintenanceMode", Val: on})
	if cluster, ok := Map.Get(*h.Parent).(*ClusterComputeResource); ok {
		Map.WithLock(cluster, func() { labRefreshClusterSummary(cluster) })
	}
}

// labWaitMaintenance finishes EnterMaintenanceMode; its events carry the user who asked (Event.userName:
// "The user who caused the event").
func labWaitMaintenance(task *Task, h *HostSystem, deadline time.Time, user string) {
	defer func() {
		labEntering.Lock()
		delete(labEntering.hosts, h.Self)
		labEntering.Unlock()
	}()
	labPostEventAs(user, &types.EnteringMaintenanceModeEvent{HostEvent: h.event()})
	for {
		if labEvacuate(h) == 0 {
			labSetMaintenance(h, true)
			labPostEventAs(user, &types.EnteredMaintenanceModeEvent{HostEvent: h.event()})
			labFinishTask(task, nil, nil, "")
			return
		}
		if time.Now().After(deadline) {
			labFinishTask(task, nil, &types.Timedout{}, "Operation timed out.")
			return
		}
		time.Sleep(labMaintenancePoll)
	}
}

// EnterMaintenanceModeTask returns a running task that completes only once no powered-on VM is left
// on the host, or fails with Timedout after `timeout` seconds.
func (h *HostSystem) EnterMaintenanceModeTask(ctx *Context, req *types.EnterMaintenanceMode_Task) soap.HasFault {
	task := CreateTask(h, "enterMaintenanceModeTask", nil)
	labStartTask(task)
	body := &methods.EnterMaintenanceMode_TaskBody{
		Res: &types.EnterMaintenanceMode_TaskResponse{Returnval: task.Self},
	}
	if h.Runtime.InMaintenanceMode {
		labFinishTask(task, nil, nil, "")
		return body
	}
	if h.Runtime.ConnectionState != types.HostSystemConnectionStateConnected {
		labFinishTask(task, nil, &types.InvalidHostState{Host: &h.Self},
			"The operation is not allowed in the current connection state of the host.")
		return body
	}
	labEntering.Lock()
	busy := labEntering.hosts[h.Self]
	labEntering.hosts[h.Self] = true
	labEntering.Unlock()
	if busy {
		labFinishTask(task, nil, &types.InvalidState{},
			"The operation is not allowed in the current state: the host is already entering maintenance mode.")
		return body
	}
	timeout := time.Duration(req.Timeout) * time.Second
	if timeout <= 0 || timeout > LabMaintenanceCap {
		timeout = LabMaintenanceCap
	}
	user := ""
	if ctx.Session != nil {
		user = ctx.Session.UserName
	}
	go labWaitMaintenance(task, h, time.Now().Add(timeout), user)
	return body
}

// ExitMaintenanceModeTask leaves maintenance mode; like vCenter it refuses when the host is not in it.
func (h *HostSystem) ExitMaintenanceModeTask(ctx *Context, req *types.ExitMaintenanceMode_Task) soap.HasFault {
	task := CreateTask(h, "exitMaintenanceModeTask", nil)
	labStartTask(task)
	if !h.Runtime.InMaintenanceMode {
		labFinishTask(task, nil, &types.InvalidState{},
			"The operation is not allowed in the current state: the host is not in maintenance mode.")
	} else {
		// Called with the host already locked by the dispatcher.
		h.Runtime.InMaintenanceMode = false
		labNotifyChanges(h,
			types.PropertyChange{Name: "runtime.inMaintenanceMode", Val: false},
			types.PropertyChange{Name: "summary.runtime.inMaintenanceMode", Val: false})
		if cluster, ok := Map.Get(*h.Parent).(*ClusterComputeResource); ok {
			Map.WithLock(cluster, func() { labRefreshClusterSummary(cluster) })
		}
		ctx.postEvent(&types.ExitMaintenanceModeEvent{HostEvent: h.event()})
		labFinishTask(task, nil, nil, "")
	}
	return &methods.ExitMaintenanceMode_TaskBody{
		Res: &types.ExitMaintenanceMode_TaskResponse{Returnval: task.Self},
	}
}

// labFailoverKeptWithout: does the cluster still meet its HA admission control policy with h taken out?
// Demand is the configured memory of the powered-on VMs (HA counts reservations, which are at most that):
// a percentage policy keeps MemoryFailoverResourcesPercent of the remaining hosts' memory free; a
// host-failures policy keeps FailoverLevel hosts spare (the largest ones); dedicated failover hosts
// leave at least one other host.
func labFailoverKeptWithout(cluster *ClusterComputeResource, h *HostSystem) bool {
	cfg := cluster.ConfigurationEx.(*types.ClusterConfigInfoEx)
	das := cfg.DasConfig
	if !isTrue(das.Enabled) || !isTrue(das.AdmissionControlEnabled) {
		return true
	}
	var capacities []int64
	var demand int64
	for _, ref := range cluster.Host {
		host, ok := Map.Get(ref).(*HostSystem)
		if !ok {
			continue
		}
		for _, vmRef := range host.Vm {
			if vm, ok := Map.Get(vmRef).(*VirtualMachine); ok && vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn {
				demand += int64(vm.Summary.Config.MemorySizeMB)
			}
		}
		if ref != h.Self && labHostUsable(host) {
			capacities = append(capacities, host.Summary.Hardware.MemorySize>>20)
		}
	}
	var total int64
	for _, c := range capacities {
		total += c
	}
	switch policy := das.AdmissionControlPolicy.(type) {
	case *types.ClusterFailoverResourcesAdmissionControlPolicy:
		return len(capacities) > 0 && demand*100 <= total*int64(100-policy.MemoryFailoverResourcesPercent)
	case *types.ClusterFailoverLevelAdmissionControlPolicy:
		level := int(policy.FailoverLevel)
		if len(capacities) <= level {
			return false
		}
		sort.Slice(capacities, func(i, j int) bool { return capacities[i] > capacities[j] })
		var kept int64
		for _, c := range capacities[level:] {
			kept += c
		}
		return demand <= kept
	case *types.ClusterFailoverHostAdmissionControlPolicy:
		others := 0
		for _, ref := range cluster.Host {
			spare := false
			for _, f := range policy.FailoverHosts {
				spare = spare || f == ref
			}
			if host, ok := Map.Get(ref).(*HostSystem); ok && ref != h.Self && !spare && labHostUsable(host) {
				others++
			}
		}
		return others > 0
	}
	return true
}
