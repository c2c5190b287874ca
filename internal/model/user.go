package model

// User is a pupil or teacher as the MPASSid data model 1.4 describes them:
// what the broker has established after a login and validated against the
// registry. Which of it a service receives is decided at release time.
type User struct {
	// UID is "MPASSOID." followed by 40 lowercase hex characters.
	UID       string `json:"uid"`
	GivenName string `json:"givenName,omitempty"`
	Surname   string `json:"surname,omitempty"`
	Nickname  string `json:"nickname,omitempty"`
	LearnerID string `json:"learnerId,omitempty"`
	// TestLearnerID marks a learner id of the test range 1.2.246.562.98.*,
	// released only to sets that allow test learner ids.
	TestLearnerID bool `json:"testLearnerId,omitempty"`
	// Roles holds one role per school, in upstream order.
	Roles []UserRole `json:"roles,omitempty"`
	// ClassLevel is the grade 0-10 of a comprehensive-school pupil, or nil.
	ClassLevel *int `json:"classLevel,omitempty"`
	// OriginalIssuer is the OID of the education provider whose source
	// authenticated the user.
	OriginalIssuer string `json:"originalIssuer,omitempty"`
	// Source is the flowName of the source used; it becomes the
	// authentication context urn:mpass.id:authnsource:<flowName>.
	Source string `json:"source"`
}

// UserRole is the user's role in one school, resolved through the registry.
type UserRole struct {
	ProviderOID  string `json:"providerOid"`
	ProviderName string `json:"providerName"`
	SchoolCode   string `json:"schoolCode"`
	SchoolOID    string `json:"schoolOid"`
	SchoolName   string `json:"schoolName"`
	// OfficeOID and OfficeName are set when the upstream named an office,
	// which was resolved to its parent school.
	OfficeOID  string `json:"officeOid,omitempty"`
	OfficeName string `json:"officeName,omitempty"`
	Group      string `json:"group,omitempty"`
	RoleName   string `json:"roleName"`
	RoleCode   int    `json:"roleCode"`
	// LearningMaterialsCharge is 0 (free) or 1 (chargeable) for pupils, nil
	// when unknown or not a pupil.
	LearningMaterialsCharge *int `json:"learningMaterialsCharge,omitempty"`
}

// Role names of the data model.
const (
	RoleNameTeacher     = "Opettaja"
	RoleNamePupil       = "Oppilas"
	RoleNamePrincipal   = "Rehtori"
	RoleNameSubstitute  = "Sijaisopettaja"
	RoleNameSecretary   = "Koulusihteeri"
	RoleNameAdminStaff  = "Hallintohenkilö"
	RoleCodeUnmapped    = -1
	UIDPrefix           = "MPASSOID."
	LearnerIDPrefix     = "1.2.246.562.24."
	TestLearnerIDPrefix = "1.2.246.562.98."
)
