package simulator

// Hooks for the lab's control endpoint (fault injection, session drops) and paged property
// retrieval (ContinueRetrievePropertiesEx arrived after govmomi 0.24).

import (
	"sync"

	"github.com/google/uuid"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

var labFaults struct {
	sync.Mutex
	failReconfigure int
}

// LabSetFailReconfigure makes the next n ReconfigureComputeResource tasks fail.
func LabSetFailReconfigure(n int) {
	labFaults.Lock()
	labFaults.failReconfigure = n
	labFaults.Unlock()
}

// LabFailReconfigure is how many ReconfigureComputeResource tasks are still to fail.
func LabFailReconfigure() int {
	labFaults.Lock()
	defer labFaults.Unlock()
	return labFaults.failReconfigure
}

// LabTakeReconfigureFault consumes one injected reconfigure failure, if any is pending.
func LabTakeReconfigureFault() bool {
	labFaults.Lock()
	defer labFaults.Unlock()
	if labFaults.failReconfigure > 0 {
		labFaults.failReconfigure--
		return true
	}
	return false
}

// LabSessionValid says whether a session cookie value names a logged-in session.
func LabSessionValid(key string) bool {
	_, ok := Map.SessionManager().getSession(key)
	return ok
}

// LabDropSessions invalidates every session, as a vCenter restart or session timeout would.
func LabDropSessions() int {
	sm := Map.SessionManager()
	sessionMutex.Lock()
	defer sessionMutex.Unlock()
	n := len(sm.sessions)
	for key := range sm.sessions {
		delete(sm.sessions, key)
	}
	return n
}

type labPage struct {
	objects []types.ObjectContent
	size    int
}

var labPages = struct {
	sync.Mutex
	m map[string]*labPage
}{m: map[string]*labPage{}}

// labMaxPending bounds result sets parked for tokens a client never continues or cancels.
const labMaxPending = 256

func labNextPage(objects []types.ObjectContent, size int) *types.RetrieveResult {
	res := &types.RetrieveResult{}
	if size <= 0 || len(objects) <= size {
		res.Objects = objects
		return res
	}
	res.Objects = objects[:size]
	token := uuid.New().String()
	labPages.Lock()
	if len(labPages.m) >= labMaxPending {
		for k := range labPages.m {
			delete(labPages.m, k)
			break
		}
	}
	labPages.m[token] = &labPage{objects: objects[size:], size: size}
	labPages.Unlock()
	res.Token = token
	return res
}

// LabDefaultPageSize is how many objects RetrievePropertiesEx returns when the client sets no
// maxObjects. The API reference calls an unset maxObjects "no maximum" but lets the server page anyway;
// vCenter does, at 100 objects (seen by ManageIQ, manageiq#8211, and vsphere-automation-sdk-java#217).
// The lab's topology sets a smaller size so its small inventory still exercises the token loop.
var LabDefaultPageSize = 100

// RetrievePropertiesEx honours options.maxObjects by returning a token for the rest, as vCenter does,
// and pages at LabDefaultPageSize when no maximum is given.
func (pc *PropertyCollector) RetrievePropertiesEx(ctx *Context, r *types.RetrievePropertiesEx) soap.HasFault {
	res := pc.simRetrievePropertiesEx(ctx, r)
	body, ok := res.(*methods.RetrievePropertiesExBody)
	if !ok || body.Res == nil || body.Res.Returnval == nil {
		return res
	}
	size := int(r.Options.MaxObjects)
	if size <= 0 || size > LabDefaultPageSize {
		size = LabDefaultPageSize
	}
	body.Res.Returnval = labNextPage(body.Res.Returnval.Objects, size)
	return body
}

// ContinueRetrievePropertiesEx returns the next page for a token from RetrievePropertiesEx.
func (pc *PropertyCollector) ContinueRetrievePropertiesEx(ctx *Context, r *types.ContinueRetrievePropertiesEx) soap.HasFault {
	body := &methods.ContinueRetrievePropertiesExBody{}
	labPages.Lock()
	page, ok := labPages.m[r.Token]
	delete(labPages.m, r.Token)
	labPages.Unlock()
	if !ok {
		body.Fault_ = Fault("A specified parameter was not correct: token", &types.InvalidArgument{InvalidProperty: "token"})
		return body
	}
	res := labNextPage(page.objects, page.size)
	body.Res = &types.ContinueRetrievePropertiesExResponse{Returnval: *res}
	return body
}

// CancelRetrievePropertiesEx drops the rest of a paged result.
func (pc *PropertyCollector) CancelRetrievePropertiesEx(ctx *Context, r *types.CancelRetrievePropertiesEx) soap.HasFault {
	labPages.Lock()
	delete(labPages.m, r.Token)
	labPages.Unlock()
	return &methods.CancelRetrievePropertiesExBody{Res: &types.CancelRetrievePropertiesExResponse{}}
}
