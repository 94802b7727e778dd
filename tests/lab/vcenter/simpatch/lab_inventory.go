package simulator

// Lab inventory builder. This file is compiled into a private copy of the govmomi simulator package
// (see tests/lab/vcenter/launcher.py), so it builds objects directly with the simulator's internals:
// going through the SOAP client for every object would make a 10,000-VM benchmark inventory slow.

import (
	"fmt"
	"os"
	"strings"
	"text/template"
	"time"

	"github.com/vmware/govmomi/simulator/esx"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// LabVM is one virtual machine of the lab topology.
type LabVM struct {
	Name    string `json:"name"`
	Host    string `json:"host"`
	PowerOn bool   `json:"power_on"`
	Role    string `json:"role"`
}

// LabCluster is one cluster of the lab topology.
type LabCluster struct {
	Name             string   `json:"name"`
	Hosts            []string `json:"hosts"`
	DSVA             bool     `json:"dsva"`
	DrsEnabled       bool     `json:"drs_enabled"`
	DrsAutomation    string   `json:"drs_automation"`
	VmotionRate      int32    `json:"vmotion_rate"`
	HaEnabled        bool     `json:"ha_enabled"`
	HostMonitoring   string   `json:"host_monitoring"`
	AdmissionControl bool     `json:"admission_control"`
	DsvaProduct      bool     `json:"dsva_product"`
	VMs              []LabVM  `json:"vms"`
}

// LabInventory is the part of the lab config that describes the inventory.
type LabInventory struct {
	Datacenter      string       `json:"datacenter"`
	DsvaNamePattern string       `json:"dsva_name_pattern"`
	Clusters        []LabCluster `json:"clusters"`
}

// LabDatastoreName is the one shared datastore every lab host mounts (vMotion needs shared storage).
const LabDatastoreName = "LabDatastore"

func labBool(v bool) *bool { return &v }

// labDefaultClusterConfig is what a freshly created vSphere 7/8 cluster reports: every dasConfig
// sub-structure present (community.vmware dereferences them without checking).
func labDefaultClusterConfig(c *LabCluster) *types.ClusterConfigInfoEx {
	automation := c.DrsAutomation
	if automation == "" {
		automation = string(types.DrsBehaviorFullyAutomated)
	}
	rate := c.VmotionRate
	if rate == 0 {
		rate = 3
	}
	hostMonitoring := c.HostMonitoring
	if hostMonitoring == "" {
		hostMonitoring = string(types.ClusterDasConfigInfoServiceStateEnabled)
	}
	cfg := &types.ClusterConfigInfoEx{}
	cfg.VmSwapPlacement = string(types.VirtualMachineConfigInfoSwapPlacementTypeVmDirectory)
	cfg.DrsConfig = types.ClusterDrsConfigInfo{
		Enabled:                   labBool(c.DrsEnabled),
		EnableVmBehaviorOverrides: labBool(true),
		DefaultVmBehavior:         types.DrsBehavior(automation),
		VmotionRate:               rate,
		ScaleDescendantsShares:    "disabled",
	}
	cfg.DasConfig = types.ClusterDasConfigInfo{
		Enabled:               labBool(c.HaEnabled),
		VmMonitoring:          string(types.ClusterDasConfigInfoVmMonitoringStateVmMonitoringDisabled),
		HostMonitoring:        hostMonitoring,
		VmComponentProtecting: "disabled",
		FailoverLevel:         1,
		AdmissionControlPolicy: &types.ClusterFailoverResourcesAdmissionControlPolicy{
			CpuFailoverResourcesPercent:    33,
			MemoryFailoverResourcesPercent: 33,
			FailoverLevel:                  1,
			AutoComputePercentages:         labBool(true),
		},
		AdmissionControlEnabled: labBool(c.AdmissionControl),
		DefaultVmSettings: &types.ClusterDasVmSettings{
			RestartPriority:        string(types.ClusterDasVmSettingsRestartPriorityMedium),
			RestartPriorityTimeout: 600,
			IsolationResponse:      string(types.ClusterDasVmSettingsIsolationResponseNone),
			VmToolsMonitoringSettings: &types.ClusterVmToolsMonitoringSettings{
				Enabled:          labBool(false),
				VmMonitoring:     string(types.ClusterDasConfigInfoVmMonitoringStateVmMonitoringDisabled),
				ClusterSettings:  labBool(true),
				FailureInterval:  30,
				MinUpTime:        120,
				MaxFailures:      3,
				MaxFailureWindow: 3600,
			},
			VmComponentProtectionSettings: &types.ClusterVmComponentProtectionSettings{
				VmStorageProtectionForAPD: "disabled",
				EnableAPDTimeoutForHosts:  labBool(true),
				VmTerminateDelayForAPDSec: 180,
				VmReactionOnAPDCleared:    "none",
				VmStorageProtectionForPDL: "disabled",
			},
		},
		HBDatastoreCandidatePolicy: "allFeasibleDsWithUserPreference",
	}
	cfg.VsanConfigInfo = &types.VsanClusterConfigInfo{
		Enabled:       labBool(false),
		DefaultConfig: &types.VsanClusterConfigInfoHostDefaultInfo{AutoClaimStorage: labBool(false)},
	}
	cfg.DpmConfigInfo = &types.ClusterDpmConfigInfo{
		Enabled:             labBool(false),
		DefaultDpmBehavior:  types.DpmBehaviorAutomated,
		HostPowerActionRate: 3,
	}
	cfg.InfraUpdateHaConfig = &types.ClusterInfraUpdateHaConfigInfo{
		Enabled:             labBool(false),
		Behavior:            "Manual",
		ModerateRemediation: "QuarantineMode",
		SevereRemediation:   "QuarantineMode",
	}
	cfg.ProactiveDrsConfig = &types.ClusterProactiveDrsConfigInfo{Enabled: labBool(false)}
	return cfg
}

// labSyncLegacyConfig mirrors configurationEx into the deprecated `configuration` property, which a
// real vCenter still fills and older tooling still reads.
func labSyncLegacyConfig(c *ClusterComputeResource) {
	cfg := c.ConfigurationEx.(*types.ClusterConfigInfoEx)
	c.Configuration = types.ClusterConfigInfo{
		DasConfig:   cfg.DasConfig,
		DasVmConfig: cfg.DasVmConfig,
		DrsConfig:   cfg.DrsConfig,
		DrsVmConfig: cfg.DrsVmConfig,
		Rule:        cfg.Rule,
	}
}

type labBuilder struct {
	ctx      *Context
	dc       *Datacenter
	vmFolder *Folder
	hosts    map[string]*HostSystem
	ds       *Datastore
	dsDir    string
}

// LabBuild turns the single empty datacenter of a fresh VPX model into the lab inventory.
// dsDir is an empty directory that backs the shared datastore.
func LabBuild(inv *LabInventory, dsDir string) error {
	ctx := internalContext
	dc, ok := Map.Any("Datacenter").(*Datacenter)
	if !ok {
		return fmt.Errorf("the model has no datacenter")
	}
	dc.Name = inv.Datacenter
	b := &labBuilder{
		ctx:      ctx,
		dc:       dc,
		vmFolder: Map.Get(dc.VmFolder).(*Folder),
		hosts:    map[string]*HostSystem{},
		dsDir:    dsDir,
	}
	hostFolder := Map.Get(dc.HostFolder).(*Folder)
	labRegisterChecker()
	// The 0.24 simulator's message format of VmMigratedEvent does not parse (a "}" is missing), which would
	// panic the first migration that logs one; vCenter's message reads like this.
	Map.EventManager().templates["VmMigratedEvent"] = template.Must(template.New("VmMigratedEvent").Parse(
		"Migration of virtual machine {{.Vm.Name}} from {{.SourceHost.Name}} to {{.Host.Name}} completed"))

	clusters := make([]*ClusterComputeResource, len(inv.Clusters))
	for i := range inv.Clusters {
		spec := &inv.Clusters[i]
		cluster, fault := CreateClusterComputeResource(ctx, hostFolder, spec.Name, types.ClusterConfigSpecEx{})
		if fault != nil {
			return fmt.Errorf("cluster %s: %T", spec.Name, fault)
		}
		cluster.ConfigurationEx = labDefaultClusterConfig(spec)
		labSyncLegacyConfig(cluster)
		clusters[i] = cluster
		for _, name := range spec.Hosts {
			if _, dup := b.hosts[name]; dup {
				return fmt.Errorf("host %s appears twice", name)
			}
			if err := b.addHost(cluster, name); err != nil {
				return err
			}
		}
	}

	for i := range inv.Clusters {
		spec := &inv.Clusters[i]
		cluster := clusters[i]
		for _, vm := range spec.VMs {
			host, ok := b.hosts[vm.Host]
			if !ok {
				return fmt.Errorf("vm %s: unknown host %s", vm.Name, vm.Host)
			}
			guest := string(types.VirtualMachineGuestOsIdentifierWindows9Server64Guest)
			if err := b.addVM(cluster, host, vm.Name, guest, vm.PowerOn); err != nil {
				return err
			}
		}
		if spec.DSVA {
			pattern := inv.DsvaNamePattern
			if pattern == "" {
				pattern = "dsva-{host}"
			}
			for _, name := range spec.Hosts {
				dsva := strings.Replace(pattern, "{host}", name, -1)
				guest := string(types.VirtualMachineGuestOsIdentifierOtherLinux64Guest)
				if err := b.addVM(cluster, b.hosts[name], dsva, guest, true); err != nil {
					return err
				}
				if spec.DsvaProduct {
					labMarkAppliance(Map.FindByName(dsva, b.vmFolder.ChildEntity).(*VirtualMachine))
				}
			}
		}
		labRefreshClusterSummary(cluster)
	}
	return nil
}

func (b *labBuilder) addHost(cluster *ClusterComputeResource, name string) error {
	host := NewHostSystem(esx.HostSystem)
	host.configure(types.HostConnectSpec{HostName: name}, true)
	// The esx template is a 2-core, 4 GB host; lab clusters pretend to be ordinary server hardware so
	// capacity checks have room for the topology's VMs.
	host.Summary.Hardware.NumCpuPkgs = 2
	host.Summary.Hardware.NumCpuCores = 32
	host.Summary.Hardware.NumCpuThreads = 64
	host.Summary.Hardware.CpuMhz = 2600
	host.Summary.Hardware.MemorySize = 512 << 30
	host.Hardware.CpuInfo.NumCpuPackages = 2
	host.Hardware.CpuInfo.NumCpuCores = 32
	host.Hardware.CpuInfo.NumCpuThreads = 64
	host.Hardware.MemorySize = 512 << 30
	host.Runtime.InMaintenanceMode = false
	host.Runtime.PowerState = types.HostSystemPowerStatePoweredOn
	Map.PutEntity(cluster, Map.NewEntity(host))
	host.Summary.Host = &host.Self
	cluster.Host = append(cluster.Host, host.Reference())
	addComputeResource(cluster.Summary.GetComputeResourceSummary(), host)
	host.Network = cluster.Network[:1]
	b.hosts[name] = host
	return b.mount(cluster, host)
}

// labNewDatastore creates the shared datastore the way HostDatastoreSystem.add does, but with an
// ordinary moref ("datastore-N") instead of one spelled from the backing directory's path.
func (b *labBuilder) labNewDatastore() error {
	if err := os.MkdirAll(b.dsDir, 0700); err != nil {
		return err
	}
	ds := &Datastore{}
	ds.Name = LabDatastoreName
	ds.Info = &types.LocalDatastoreInfo{
		DatastoreInfo: types.DatastoreInfo{Name: LabDatastoreName, Url: b.dsDir},
		Path:          b.dsDir,
	}
	ds.Summary.Type = string(types.HostFileSystemVolumeFileSystemTypeVMFS)
	ds.Summary.MaintenanceMode = string(types.DatastoreSummaryMaintenanceModeStateNormal)
	ds.Summary.Accessible = true
	ds.Summary.MultipleHostAccess = types.NewBool(true)
	ds.Summary.Name = ds.Name
	ds.Summary.Url = b.dsDir
	ds.Capability = types.DatastoreCapability{
		DirectoryHierarchySupported:      true,
		PerFileThinProvisioningSupported: true,
		StorageIORMSupported:             types.NewBool(true),
		NativeSnapshotSupported:          types.NewBool(false),
		TopLevelDirectoryCreateSupported: types.NewBool(true),
		SeSparseSupported:                types.NewBool(true),
	}
	folder := Map.Get(b.dc.DatastoreFolder).(*Folder)
	folderPutChild(b.ctx, &folder.Folder, ds)
	ds.Summary.Datastore = &ds.Self
	browser := &HostDatastoreBrowser{}
	browser.Datastore = []types.ManagedObjectReference{ds.Self}
	ds.Browser = Map.Put(browser).Reference()
	if f := ds.RefreshDatastore(&types.RefreshDatastore{This: ds.Self}).Fault(); f != nil {
		return fmt.Errorf("datastore: %s", f.String)
	}
	b.ds = ds
	return nil
}

// mount attaches the shared datastore to a host, as shared storage appears on a real cluster.
func (b *labBuilder) mount(cluster *ClusterComputeResource, host *HostSystem) error {
	if b.ds == nil {
		if err := b.labNewDatastore(); err != nil {
			return err
		}
	}
	ds := b.ds
	ds.Host = append(ds.Host, types.DatastoreHostMount{
		Key: host.Reference(),
		MountInfo: types.HostMountInfo{
			Path:       "/vmfs/volumes/" + LabDatastoreName,
			AccessMode: string(types.HostMountModeReadWrite),
			Mounted:    types.NewBool(true),
			Accessible: types.NewBool(true),
		},
	})
	dss := Map.Get(*host.ConfigManager.DatastoreSystem).(*HostDatastoreSystem)
	dss.Datastore = append(dss.Datastore, ds.Self)
	host.Datastore = dss.Datastore
	Map.AddReference(cluster, &cluster.Datastore, ds.Self)
	Map.AddReference(b.dc, &b.dc.Datastore, ds.Self)
	return nil
}

func (b *labBuilder) addVM(cluster *ClusterComputeResource, host *HostSystem, name, guest string, powerOn bool) error {
	hostRef := host.Reference()
	req := &types.CreateVM_Task{
		This: b.vmFolder.Self,
		Config: types.VirtualMachineConfigSpec{
			Name:     name,
			GuestId:  guest,
			NumCPUs:  2,
			MemoryMB: 4096,
			Files:    &types.VirtualMachineFileInfo{VmPathName: "[" + LabDatastoreName + "]"},
		},
		Pool: *cluster.ResourcePool,
		Host: &hostRef,
	}
	runner := &createVM{Folder: b.vmFolder, ctx: b.ctx, req: req}
	res, fault := runner.Run(nil)
	if fault != nil {
		return fmt.Errorf("vm %s: %T", name, fault)
	}
	vm := Map.Get(res.(types.ManagedObjectReference)).(*VirtualMachine)
	if powerOn {
		labSetPower(vm, true)
	}
	return nil
}

// labSetPower switches a VM's power state without the event and vmx log churn of a power task, and
// fills in the guest facts (tools running, hostname) that a booted Windows/Linux guest reports.
func labSetPower(vm *VirtualMachine, on bool) {
	now := time.Now()
	if on {
		vm.Runtime.PowerState = types.VirtualMachinePowerStatePoweredOn
		vm.Runtime.BootTime = &now
		vm.Guest.GuestState = "running"
		vm.Guest.ToolsStatus = types.VirtualMachineToolsStatusToolsOk
		vm.Guest.ToolsRunningStatus = string(types.VirtualMachineToolsRunningStatusGuestToolsRunning)
		vm.Guest.ToolsVersion = "12352"
		vm.Guest.HostName = vm.Name
		vm.Guest.GuestId = vm.Config.GuestId
		vm.Guest.GuestFullName = vm.Config.GuestFullName
	} else {
		vm.Runtime.PowerState = types.VirtualMachinePowerStatePoweredOff
		vm.Runtime.BootTime = nil
		vm.Guest.GuestState = "notRunning"
		vm.Guest.ToolsRunningStatus = string(types.VirtualMachineToolsRunningStatusGuestToolsNotRunning)
	}
	vm.Summary.Runtime = vm.Runtime
	vm.Summary.Guest = &types.VirtualMachineGuestSummary{
		GuestId:            vm.Guest.GuestId,
		GuestFullName:      vm.Guest.GuestFullName,
		ToolsStatus:        vm.Guest.ToolsStatus,
		ToolsRunningStatus: vm.Guest.ToolsRunningStatus,
		HostName:           vm.Guest.HostName,
	}
}

// labRefreshClusterSummary recomputes the cluster summary the way vCenter reports it.
func labRefreshClusterSummary(cluster *ClusterComputeResource) {
	s := cluster.Summary.GetComputeResourceSummary()
	s.NumEffectiveHosts = 0
	s.EffectiveCpu = 0
	s.EffectiveMemory = 0
	for _, ref := range cluster.Host {
		host, ok := Map.Get(ref).(*HostSystem)
		if !ok {
			continue
		}
		if host.Runtime.ConnectionState == types.HostSystemConnectionStateConnected && !host.Runtime.InMaintenanceMode {
			s.NumEffectiveHosts++
			s.EffectiveCpu += host.Summary.Hardware.CpuMhz * int32(host.Summary.Hardware.NumCpuCores)
			s.EffectiveMemory += host.Summary.Hardware.MemorySize / (1024 * 1024)
		}
	}
}

var _ mo.Entity = (*ClusterComputeResource)(nil)

// labMarkAppliance gives a DSVA what an appliance deployed from Trend Micro's OVF carries: a vApp product
// (vim.vApp.ProductInfo, shown by vCenter in summary.config.product).
func labMarkAppliance(vm *VirtualMachine) {
	product := &types.VAppProductInfo{Key: 0, Name: LabDsvaProductName, Vendor: LabDsvaProductVendor}
	vm.Summary.Config.Product = product
}

// The product the lab's OVF-deployed DSVAs report. Trend's deployment guides call the appliance
// "Deep Security Virtual Appliance" from Trend Micro; the exact OVF string of each release could not
// be confirmed here, and the collection matches it by substring.
const (
	LabDsvaProductName   = "Trend Micro Deep Security Virtual Appliance"
	LabDsvaProductVendor = "Trend Micro Inc."
)
