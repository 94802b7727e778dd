package simulator

// Cluster behaviour a real vCenter has and the 0.24 simulator lacks: incremental (modify=true)
// reconfiguration of drsConfig/dasConfig, strict override add/edit/remove, GetResourceUsage, and
// custom values on clusters and hosts.

import (
	"fmt"
	"reflect"
	"time"

	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// labStartTask marks a task running, as Task.Run does, for tasks we complete ourselves.
// Our tasks are created as "<method>Task" so that info.name reads as the WSDL method
// (EnterMaintenanceMode_Task): pyVim.task resolves that name while a task is still running.
func labStartTask(t *Task) {
	Map.Update(t, []types.PropertyChange{
		{Name: "info.startTime", Val: time.Now()},
		{Name: "info.state", Val: types.TaskInfoStateRunning},
	})
}

// labFinishTask completes a task; unlike Task.Run it carries a readable localized message, which
// clients show as the fault's msg.
func labFinishTask(t *Task, res types.AnyType, fault types.BaseMethodFault, msg string) {
	state := types.TaskInfoStateSuccess
	var info interface{}
	if fault != nil {
		state = types.TaskInfoStateError
		if msg == "" {
			msg = reflect.TypeOf(fault).Elem().Name()
		}
		info = types.LocalizedMethodFault{Fault: fault, LocalizedMessage: msg}
	}
	Map.Update(t, []types.PropertyChange{
		{Name: "info.completeTime", Val: time.Now()},
		{Name: "info.state", Val: state},
		{Name: "info.result", Val: res},
		{Name: "info.error", Val: info},
	})
}

// labNotify tells property collectors (WaitForUpdates) about fields we already changed in place.
func labNotify(obj mo.Reference, names ...string) {
	val := getManagedObject(obj).Addr().Interface().(mo.Reference)
	changes := make([]types.PropertyChange, 0, len(names))
	for _, name := range names {
		v, err := fieldValue(reflect.ValueOf(val), name)
		if err == errEmptyField {
			v, err = nil, nil
		}
		if err != nil {
			continue
		}
		changes = append(changes, types.PropertyChange{Name: name, Op: types.PropertyChangeOpAssign, Val: v})
	}
	Map.applyHandlers(func(o RegisterObject) {
		o.UpdateObject(val, changes)
	})
}

// labMerge copies every field that is set in src onto dst (both addressable structs of one type):
// nil pointers, empty strings, zero numbers and empty lists mean "leave as it was", which is what
// vCenter does with a modify=true spec. Nested structs behind pointers are merged into fresh copies so
// the live configuration is never mutated before the whole spec has been validated.
func labMerge(dst, src reflect.Value) {
	for i := 0; i < src.NumField(); i++ {
		if src.Type().Field(i).Anonymous {
			continue
		}
		f := src.Field(i)
		d := dst.Field(i)
		switch f.Kind() {
		case reflect.Ptr:
			if f.IsNil() {
				continue
			}
			if f.Elem().Kind() == reflect.Struct && !d.IsNil() {
				n := reflect.New(f.Elem().Type())
				n.Elem().Set(d.Elem())
				labMerge(n.Elem(), f.Elem())
				d.Set(n)
			} else {
				d.Set(f)
			}
		case reflect.Slice:
			if f.Len() == 0 {
				continue
			}
			if opts, ok := f.Interface().([]types.BaseOptionValue); ok {
				d.Set(reflect.ValueOf(labMergeOptions(d.Interface().([]types.BaseOptionValue), opts)))
			} else {
				d.Set(f)
			}
		case reflect.Interface, reflect.Map:
			if !f.IsNil() {
				d.Set(f)
			}
		default:
			if !f.IsZero() {
				d.Set(f)
			}
		}
	}
}

// labMergeOptions updates advanced options by key; an empty value removes the option.
func labMergeOptions(cur, spec []types.BaseOptionValue) []types.BaseOptionValue {
	out := append([]types.BaseOptionValue(nil), cur...)
	for _, o := range spec {
		opt := o.GetOptionValue()
		idx := -1
		for i := range out {
			if out[i].GetOptionValue().Key == opt.Key {
				idx = i
				break
			}
		}
		empty := opt.Value == nil || opt.Value == ""
		switch {
		case idx >= 0 && empty:
			out = append(out[:idx], out[idx+1:]...)
		case idx >= 0:
			out[idx] = o
		case !empty:
			out = append(out, o)
		}
	}
	return out
}

func labRemoveKeyRef(key interface{}) (types.ManagedObjectReference, bool) {
	switch k := key.(type) {
	case types.ManagedObjectReference:
		return k, true
	case *types.ManagedObjectReference:
		return *k, true
	}
	return types.ManagedObjectReference{}, false
}

func labInvalid(property, format string, args ...interface{}) (types.BaseMethodFault, string) {
	return &types.InvalidArgument{InvalidProperty: property}, fmt.Sprintf(format, args...)
}

func (c *ClusterComputeResource) labCheckVM(ref types.ManagedObjectReference) bool {
	vm, ok := Map.Get(ref).(*VirtualMachine)
	if !ok || vm.Runtime.Host == nil {
		return false
	}
	return FindReference(c.Host, *vm.Runtime.Host) != nil
}

func (c *ClusterComputeResource) labDrsOverrides(cur []types.ClusterDrsVmConfigInfo, specs []types.ClusterDrsVmConfigSpec) ([]types.ClusterDrsVmConfigInfo, types.BaseMethodFault, string) {
	out := append([]types.ClusterDrsVmConfigInfo(nil), cur...)
	for _, spec := range specs {
		var key types.ManagedObjectReference
		if spec.Operation == types.ArrayUpdateOperationRemove {
			k, ok := labRemoveKeyRef(spec.RemoveKey)
			if !ok {
				f, m := labInvalid("drsVmConfigSpec.removeKey", "A specified parameter was not correct: drsVmConfigSpec.removeKey")
				return nil, f, m
			}
			key = k
		} else {
			if spec.Info == nil {
				f, m := labInvalid("drsVmConfigSpec.info", "A specified parameter was not correct: drsVmConfigSpec.info")
				return nil, f, m
			}
			key = spec.Info.Key
		}
		idx := -1
		for i := range out {
			if out[i].Key == key {
				idx = i
				break
			}
		}
		switch spec.Operation {
		case types.ArrayUpdateOperationAdd:
			if idx >= 0 {
				f, m := labInvalid("drsVmConfigSpec.info.key", "A specified parameter was not correct: drsVmConfigSpec.info.key (%s already has a DRS override)", key.Value)
				return nil, f, m
			}
			if !c.labCheckVM(key) {
				f, m := labInvalid("drsVmConfigSpec.info.key", "A specified parameter was not correct: drsVmConfigSpec.info.key (%s is not a VM of this cluster)", key.Value)
				return nil, f, m
			}
			out = append(out, *spec.Info)
		case types.ArrayUpdateOperationEdit:
			if idx < 0 {
				f, m := labInvalid("drsVmConfigSpec.info.key", "A specified parameter was not correct: drsVmConfigSpec.info.key (%s has no DRS override)", key.Value)
				return nil, f, m
			}
			labMerge(reflect.ValueOf(&out[idx]).Elem(), reflect.ValueOf(spec.Info).Elem())
		case types.ArrayUpdateOperationRemove:
			if idx < 0 {
				f, m := labInvalid("drsVmConfigSpec.removeKey", "A specified parameter was not correct: drsVmConfigSpec.removeKey (%s has no DRS override)", key.Value)
				return nil, f, m
			}
			out = append(out[:idx], out[idx+1:]...)
		default:
			f, m := labInvalid("drsVmConfigSpec.operation", "A specified parameter was not correct: drsVmConfigSpec.operation")
			return nil, f, m
		}
	}
	return out, nil, ""
}

func (c *ClusterComputeResource) labDasOverrides(cur []types.ClusterDasVmConfigInfo, specs []types.ClusterDasVmConfigSpec) ([]types.ClusterDasVmConfigInfo, types.BaseMethodFault, string) {
	out := append([]types.ClusterDasVmConfigInfo(nil), cur...)
	for _, spec := range specs {
		var key types.ManagedObjectReference
		if spec.Operation == types.ArrayUpdateOperationRemove {
			k, ok := labRemoveKeyRef(spec.RemoveKey)
			if !ok {
				f, m := labInvalid("dasVmConfigSpec.removeKey", "A specified parameter was not correct: dasVmConfigSpec.removeKey")
				return nil, f, m
			}
			key = k
		} else {
			if spec.Info == nil {
				f, m := labInvalid("dasVmConfigSpec.info", "A specified parameter was not correct: dasVmConfigSpec.info")
				return nil, f, m
			}
			key = spec.Info.Key
		}
		idx := -1
		for i := range out {
			if out[i].Key == key {
				idx = i
				break
			}
		}
		switch spec.Operation {
		case types.ArrayUpdateOperationAdd:
			if idx >= 0 {
				f, m := labInvalid("dasVmConfigSpec.info.key", "A specified parameter was not correct: dasVmConfigSpec.info.key (%s already has an HA override)", key.Value)
				return nil, f, m
			}
			if !c.labCheckVM(key) {
				f, m := labInvalid("dasVmConfigSpec.info.key", "A specified parameter was not correct: dasVmConfigSpec.info.key (%s is not a VM of this cluster)", key.Value)
				return nil, f, m
			}
			info := *spec.Info
			if info.DasSettings != nil {
				settings := *info.DasSettings
				info.DasSettings = &settings
			}
			out = append(out, info)
		case types.ArrayUpdateOperationEdit:
			if idx < 0 {
				f, m := labInvalid("dasVmConfigSpec.info.key", "A specified parameter was not correct: dasVmConfigSpec.info.key (%s has no HA override)", key.Value)
				return nil, f, m
			}
			if out[idx].DasSettings == nil {
				out[idx].DasSettings = &types.ClusterDasVmSettings{}
			}
			labMerge(reflect.ValueOf(&out[idx]).Elem(), reflect.ValueOf(spec.Info).Elem())
		case types.ArrayUpdateOperationRemove:
			if idx < 0 {
				f, m := labInvalid("dasVmConfigSpec.removeKey", "A specified parameter was not correct: dasVmConfigSpec.removeKey (%s has no HA override)", key.Value)
				return nil, f, m
			}
			out = append(out[:idx], out[idx+1:]...)
		default:
			f, m := labInvalid("dasVmConfigSpec.operation", "A specified parameter was not correct: dasVmConfigSpec.operation")
			return nil, f, m
		}
	}
	return out, nil, ""
}

var labDrsBehaviors = map[types.DrsBehavior]bool{
	types.DrsBehaviorManual:             true,
	types.DrsBehaviorPartiallyAutomated: true,
	types.DrsBehaviorFullyAutomated:     true,
}

var labRestartPriorities = map[string]bool{
	"": true, "disabled": true, "lowest": true, "low": true, "medium": true, "high": true,
	"highest": true, "clusterRestartPriority": true,
}

func (c *ClusterComputeResource) labReconfigure(req *types.ReconfigureComputeResource_Task) (types.BaseMethodFault, string) {
	if LabTakeReconfigureFault() {
		msg := "Lab fault: reconfigure refused"
		return &types.SystemError{Reason: msg}, msg
	}
	spec, ok := req.Spec.(*types.ClusterConfigSpecEx)
	if !ok {
		return labInvalid("spec", "A specified parameter was not correct: spec (a cluster needs a ClusterConfigSpecEx)")
	}
	cur := c.ConfigurationEx.(*types.ClusterConfigInfoEx)
	next := *cur

	if spec.DrsConfig != nil {
		if req.Modify {
			labMerge(reflect.ValueOf(&next.DrsConfig).Elem(), reflect.ValueOf(spec.DrsConfig).Elem())
		} else {
			next.DrsConfig = *spec.DrsConfig
		}
		if b := next.DrsConfig.DefaultVmBehavior; b != "" && !labDrsBehaviors[b] {
			return labInvalid("drsConfig.defaultVmBehavior", "A specified parameter was not correct: drsConfig.defaultVmBehavior")
		}
		if r := next.DrsConfig.VmotionRate; r < 0 || r > 5 {
			return labInvalid("drsConfig.vmotionRate", "A specified parameter was not correct: drsConfig.vmotionRate")
		}
	}
	if spec.DasConfig != nil {
		if req.Modify {
			labMerge(reflect.ValueOf(&next.DasConfig).Elem(), reflect.ValueOf(spec.DasConfig).Elem())
		} else {
			next.DasConfig = *spec.DasConfig
		}
		if s := next.DasConfig.DefaultVmSettings; s != nil && !labRestartPriorities[s.RestartPriority] {
			return labInvalid("dasConfig.defaultVmSettings.restartPriority", "A specified parameter was not correct: dasConfig.defaultVmSettings.restartPriority")
		}
	}
	merges := []struct {
		dst  interface{}
		spec interface{}
	}{
		{&next.DpmConfigInfo, spec.DpmConfig},
		{&next.VsanConfigInfo, spec.VsanConfig},
		{&next.InfraUpdateHaConfig, spec.InfraUpdateHaConfig},
		{&next.ProactiveDrsConfig, spec.ProactiveDrsConfig},
		{&next.Orchestration, spec.Orchestration},
	}
	for _, m := range merges {
		src := reflect.ValueOf(m.spec)
		if src.IsNil() {
			continue
		}
		dst := reflect.ValueOf(m.dst).Elem()
		if dst.IsNil() || !req.Modify {
			dst.Set(src)
			continue
		}
		n := reflect.New(src.Elem().Type())
		n.Elem().Set(dst.Elem())
		labMerge(n.Elem(), src.Elem())
		dst.Set(n)
	}

	var fault types.BaseMethodFault
	var msg string
	if next.DrsVmConfig, fault, msg = c.labDrsOverrides(cur.DrsVmConfig, spec.DrsVmConfigSpec); fault != nil {
		return fault, msg
	}
	if next.DasVmConfig, fault, msg = c.labDasOverrides(cur.DasVmConfig, spec.DasVmConfigSpec); fault != nil {
		return fault, msg
	}
	for _, s := range spec.DasVmConfigSpec {
		if s.Info != nil && s.Info.DasSettings != nil && !labRestartPriorities[s.Info.DasSettings.RestartPriority] {
			return labInvalid("dasVmConfigSpec.info.dasSettings.restartPriority", "A specified parameter was not correct: dasVmConfigSpec.info.dasSettings.restartPriority")
		}
	}
	next.Rule = append([]types.BaseClusterRuleInfo(nil), cur.Rule...)
	next.Group = append([]types.BaseClusterGroupInfo(nil), cur.Group...)
	if fault = c.updateRules(&next, spec); fault != nil {
		return fault, ""
	}
	if fault = c.updateGroups(&next, spec); fault != nil {
		return fault, ""
	}

	c.ConfigurationEx = &next
	labSyncLegacyConfig(c)
	labNotify(c, "configurationEx", "configuration")
	return nil, ""
}

// ReconfigureComputeResourceTask applies a ClusterConfigSpecEx atomically: a spec that fails
// validation leaves the cluster untouched, as on vCenter.
func (c *ClusterComputeResource) ReconfigureComputeResourceTask(ctx *Context, req *types.ReconfigureComputeResource_Task) soap.HasFault {
	task := CreateTask(c, "reconfigureComputeResourceTask", nil)
	labStartTask(task)
	fault, msg := c.labReconfigure(req)
	if fault == nil {
		// vCenter logs the change as ClusterReconfiguredEvent ("Reconfigured cluster ..."), userName the caller.
		ctx.postEvent(&types.ClusterReconfiguredEvent{ClusterEvent: types.ClusterEvent{Event: types.Event{
			Datacenter:      datacenterEventArgument(c),
			ComputeResource: &types.ComputeResourceEventArgument{ComputeResource: c.Self, EntityEventArgument: types.EntityEventArgument{Name: c.Name}},
		}}})
	}
	labFinishTask(task, nil, fault, msg)
	return &methods.ReconfigureComputeResource_TaskBody{
		Res: &types.ReconfigureComputeResource_TaskResponse{Returnval: task.Self},
	}
}

// GetResourceUsage reports capacity from the connected hosts and a demand derived from the powered-on
// VMs, so capacity checks before maintenance see plausible numbers.
func (c *ClusterComputeResource) GetResourceUsage(req *types.GetResourceUsage) soap.HasFault {
	var usage types.ClusterResourceUsageSummary
	for _, ref := range c.Host {
		host, ok := Map.Get(ref).(*HostSystem)
		if !ok || host.Runtime.ConnectionState != types.HostSystemConnectionStateConnected {
			continue
		}
		hw := host.Summary.Hardware
		usage.CpuCapacityMHz += hw.CpuMhz * int32(hw.NumCpuCores)
		usage.MemCapacityMB += int32(hw.MemorySize / (1024 * 1024))
		for _, vmRef := range host.Vm {
			vm, ok := Map.Get(vmRef).(*VirtualMachine)
			if !ok || vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
				continue
			}
			usage.CpuUsedMHz += 120 * vm.Config.Hardware.NumCPU
			usage.MemUsedMB += vm.Config.Hardware.MemoryMB / 4
		}
	}
	if usage.CpuUsedMHz > usage.CpuCapacityMHz {
		usage.CpuUsedMHz = usage.CpuCapacityMHz
	}
	if usage.MemUsedMB > usage.MemCapacityMB {
		usage.MemUsedMB = usage.MemCapacityMB
	}
	for _, ref := range c.Datastore {
		if ds, ok := Map.Get(ref).(*Datastore); ok {
			usage.StorageCapacityMB += ds.Summary.Capacity / (1024 * 1024)
			usage.StorageUsedMB += (ds.Summary.Capacity - ds.Summary.FreeSpace) / (1024 * 1024)
		}
	}
	return &methods.GetResourceUsageBody{
		Res: &types.GetResourceUsageResponse{Returnval: usage},
	}
}

// SetCustomValue on a cluster: vCenter offers it on every ExtensibleManagedObject.
func (c *ClusterComputeResource) SetCustomValue(ctx *Context, req *types.SetCustomValue) soap.HasFault {
	return labSetCustomValue(ctx, c, req)
}

// SetCustomValue on a host, as on a cluster.
func (h *HostSystem) SetCustomValue(ctx *Context, req *types.SetCustomValue) soap.HasFault {
	return labSetCustomValue(ctx, h, req)
}

// labSetValue keeps one value per key, as vCenter does; an empty value removes it.
func labSetValue(values []types.BaseCustomFieldValue, key int32, value string) []types.BaseCustomFieldValue {
	out := make([]types.BaseCustomFieldValue, 0, len(values)+1)
	for _, v := range values {
		if v.GetCustomFieldValue().Key != key {
			out = append(out, v)
		}
	}
	if value != "" {
		out = append(out, &types.CustomFieldStringValue{
			CustomFieldValue: types.CustomFieldValue{Key: key},
			Value:            value,
		})
	}
	return out
}

// SetField replaces the entity's value for the key (the 0.24 simulator appended a second one).
func (c *CustomFieldsManager) SetField(ctx *Context, req *types.SetField) soap.HasFault {
	body := &methods.SetFieldBody{}
	_, field := c.findByKey(req.Key)
	if field == nil {
		body.Fault_ = Fault("A specified parameter was not correct: key", &types.InvalidArgument{InvalidProperty: "key"})
		return body
	}
	me, ok := Map.Get(req.Entity).(mo.Entity)
	if !ok {
		body.Fault_ = Fault("The object has already been deleted or has not been completely created",
			&types.ManagedObjectNotFound{Obj: req.Entity})
		return body
	}
	if field.ManagedObjectType != "" && field.ManagedObjectType != req.Entity.Type {
		body.Fault_ = Fault("A specified parameter was not correct: entity", &types.InvalidArgument{InvalidProperty: "entity"})
		return body
	}
	entity := me.Entity()
	ctx.WithLock(entity, func() {
		entity.CustomValue = labSetValue(entity.CustomValue, req.Key, req.Value)
		entity.Value = labSetValue(entity.Value, req.Key, req.Value)
	})
	labNotify(me, "customValue", "value")
	body.Res = &types.SetFieldResponse{}
	return body
}

// AddCustomFieldDef defines a string attribute; vCenter reports the value type ("string") in `type`,
// where 0.24 put the managed object type (empty for a global attribute, which clients reject).
func (c *CustomFieldsManager) AddCustomFieldDef(req *types.AddCustomFieldDef) soap.HasFault {
	body := &methods.AddCustomFieldDefBody{}
	if _, field := c.findByNameType(req.Name, req.MoType); field != nil {
		body.Fault_ = Fault("The name '"+req.Name+"' already exists.", &types.DuplicateName{
			Name:   req.Name,
			Object: c.Reference(),
		})
		return body
	}
	// "InvalidPrivilege: Thrown if a specified privilege is not defined" (CustomFieldsManager.AddCustomFieldDef);
	// the four privileges of a PrivilegePolicyDef are required.
	for _, policy := range []*types.PrivilegePolicyDef{req.FieldDefPolicy, req.FieldPolicy} {
		if policy == nil {
			continue
		}
		for _, id := range []string{policy.CreatePrivilege, policy.ReadPrivilege, policy.UpdatePrivilege, policy.DeletePrivilege} {
			if !labKnownPrivilege(id) {
				body.Fault_ = Fault("The privilege '"+id+"' is not defined.", &types.InvalidPrivilege{Privilege: id})
				return body
			}
		}
	}
	def := types.CustomFieldDef{
		Key:                     c.nextKey + 100,
		Name:                    req.Name,
		ManagedObjectType:       req.MoType,
		Type:                    "string",
		FieldDefPrivileges:      req.FieldDefPolicy,
		FieldInstancePrivileges: req.FieldPolicy,
	}
	for _, e := range Map.All(req.MoType) {
		entity := e.Entity()
		Map.WithLock(entity, func() {
			entity.AvailableField = append(entity.AvailableField, def)
		})
	}
	c.Field = append(c.Field, def)
	c.nextKey++
	body.Res = &types.AddCustomFieldDefResponse{Returnval: def}
	return body
}
