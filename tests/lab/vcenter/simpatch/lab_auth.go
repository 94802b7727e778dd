package simulator

// Accounts and privileges. The 0.24 simulator accepts one login and lets it do anything; a vCenter checks
// every call against the privileges the caller's role grants. The lab keeps a short list of accounts
// (the topology's vcenter.username, an administrator, plus vcenter.accounts with the privileges each holds)
// and refuses a call whose privileges the caller lacks with NoPermission, as vCenter does. Which call
// needs which privilege comes from pyVmomi's type information (the privId of each method and of each
// parameter), handed over by tests/lab/vcenter/launcher.py; granted at the root, so on every object.
//
// ExtensibleManagedObject.setCustomValue has no fixed privilege: the vSphere Web Services API reference
// says it "requires whichever updatePrivilege is defined as one of the CustomFieldDef.fieldInstancePrivileges
// for the CustomFieldDef whose value is being changed" (labSetCustomValue). CustomFieldsManager.SetField
// requires Global.SetCustomField on the entity and nothing more is documented, so the lab asks nothing more.

import (
	"strings"
	"sync"

	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// LabAccount is one vCenter login of the lab. Without Privileges it is an administrator (every privilege).
type LabAccount struct {
	Username   string   `json:"username"`
	Password   string   `json:"password"`
	Privileges []string `json:"privileges"`
}

var labAuth = struct {
	sync.RWMutex
	accounts map[string]LabAccount
	methods  map[string][]string
}{accounts: map[string]LabAccount{}, methods: map[string][]string{}}

// LabSetAccounts installs the accounts and the privileges each method call needs ("Type.Method").
func LabSetAccounts(accounts []LabAccount, methodPrivileges map[string][]string) {
	labAuth.Lock()
	defer labAuth.Unlock()
	labAuth.accounts = map[string]LabAccount{}
	for _, account := range accounts {
		labAuth.accounts[strings.ToLower(account.Username)] = account
	}
	labAuth.methods = map[string][]string{}
	for name, privileges := range methodPrivileges {
		labAuth.methods[name] = privileges
	}
}

// labSessionName is the user name vCenter reports for a session (UserSession.userName) and puts in the
// userName of the events the session causes: an SSO login user@domain appears as DOMAIN\user.
func labSessionName(login string) string {
	if at := strings.LastIndex(login, "@"); at > 0 {
		return strings.ToUpper(login[at+1:]) + `\` + login[:at]
	}
	return login
}

// labAccountOf finds the account of a session user name (or of a login name).
func labAccountOf(user string) (LabAccount, bool) {
	labAuth.RLock()
	defer labAuth.RUnlock()
	for _, account := range labAuth.accounts {
		if strings.EqualFold(account.Username, user) || strings.EqualFold(labSessionName(account.Username), user) {
			return account, true
		}
	}
	return LabAccount{}, false
}

// labHasPrivilege: does the session user hold the privilege? Users the lab does not know hold none.
func labHasPrivilege(user, privilege string) bool {
	account, ok := labAccountOf(user)
	if !ok {
		return false
	}
	if account.Privileges == nil {
		return true
	}
	for _, held := range account.Privileges {
		if held == privilege {
			return true
		}
	}
	return false
}

// LabSessionUser is the user name of a logged-in session ("" when the cookie names none).
func LabSessionUser(key string) string {
	session, ok := Map.SessionManager().getSession(key)
	if !ok {
		return ""
	}
	return session.UserName
}

// LabMissingPrivilege is the first privilege a call of method on an object of type thisType needs and
// user lacks ("" when none is missing or the method needs none).
func LabMissingPrivilege(user, thisType, method string) string {
	labAuth.RLock()
	privileges := labAuth.methods[thisType+"."+method]
	labAuth.RUnlock()
	for _, privilege := range privileges {
		if !labHasPrivilege(user, privilege) {
			return privilege
		}
	}
	return ""
}

// Login accepts the lab's accounts only.
func (s *SessionManager) Login(ctx *Context, req *types.Login) soap.HasFault {
	body := new(methods.LoginBody)
	if ctx.Session == nil {
		labAuth.RLock()
		account, ok := labAuth.accounts[strings.ToLower(req.UserName)]
		labAuth.RUnlock()
		if ok && req.Password == account.Password {
			body.Res = &types.LoginResponse{Returnval: createSession(ctx, labSessionName(account.Username), req.Locale)}
			return body
		}
	}
	body.Fault_ = invalidLogin
	return body
}

func labNoPermission(ref types.ManagedObjectReference, privilege string) *soap.Fault {
	return Fault("Permission to perform this operation was denied.", &types.NoPermission{Object: ref, PrivilegeId: privilege})
}

// labKnownPrivilege: is it a privilege vCenter defines (AddCustomFieldDef answers InvalidPrivilege otherwise)?
func labKnownPrivilege(id string) bool {
	m, ok := Map.Get(*Map.content().AuthorizationManager).(*AuthorizationManager)
	if !ok {
		return false
	}
	_, known := m.privileges[id]
	return known
}

// labFieldForName is the custom field setCustomValue(key=name) sets on an entity of type kind: a field
// defined for that type, else a global one (CustomFieldsManager.findByNameType matches either).
func labFieldForName(name, kind string) *types.CustomFieldDef {
	cfm := Map.CustomFieldsManager()
	var global *types.CustomFieldDef
	for i := range cfm.Field {
		field := &cfm.Field[i]
		if field.Name != name {
			continue
		}
		if field.ManagedObjectType == kind {
			return field
		}
		if field.ManagedObjectType == "" && global == nil {
			global = field
		}
	}
	return global
}

// labSetCustomValue is ExtensibleManagedObject.setCustomValue: the caller needs the update privilege of
// the field's instance policy (Global.SetCustomField when the field was defined without one).
func labSetCustomValue(ctx *Context, me mo.Entity, req *types.SetCustomValue) soap.HasFault {
	body := &methods.SetCustomValueBody{}
	field := labFieldForName(req.Key, req.This.Type)
	if field == nil {
		body.Fault_ = Fault("A specified parameter was not correct: key", &types.InvalidArgument{InvalidProperty: "key"})
		return body
	}
	privilege := "Global.SetCustomField"
	if policy := field.FieldInstancePrivileges; policy != nil && policy.UpdatePrivilege != "" {
		privilege = policy.UpdatePrivilege
	}
	if ctx.Session == nil || !labHasPrivilege(ctx.Session.UserName, privilege) {
		body.Fault_ = labNoPermission(req.This, privilege)
		return body
	}
	entity := me.Entity()
	ctx.WithLock(entity, func() {
		entity.CustomValue = labSetValue(entity.CustomValue, field.Key, req.Value)
		entity.Value = labSetValue(entity.Value, field.Key, req.Value)
	})
	labNotify(me, "customValue", "value")
	body.Res = &types.SetCustomValueResponse{}
	return body
}

// labPostEventAs posts events with userName set to user (the session that started the work), for work
// that finishes after the request that started it has returned.
func labPostEventAs(user string, events ...types.BaseEvent) {
	ctx := &Context{Context: internalContext.Context, Session: &Session{
		UserSession: types.UserSession{UserName: user},
		Registry:    internalContext.Session.Registry,
	}}
	ctx.postEvent(events...)
}
