package store

// DefaultCatalogue is the catalogue of a dataset that gives none: a few
// product categories and problem types as the console offers them, with
// both case types, and the two satisfaction dimensions of the v1 API
// (1 timeliness, 3 result).
func DefaultCatalogue() Catalogue {
	return Catalogue{
		ProductCategories: []ProductCategory{
			{ID: "ECS", Name: "Elastic Cloud Server", Description: "Virtual machines", Acronym: "ECS", CanUseSupportPlan: true},
			{ID: "OBS", Name: "Object Storage Service", Description: "Buckets and objects", Acronym: "OBS", CanUseSupportPlan: true},
			{ID: "RDS", Name: "Relational Database Service", Description: "Managed databases", Acronym: "RDS", CanUseSupportPlan: true},
			{ID: "BILLING", Name: "Billing Center", Description: "Bills, payments and invoices", Acronym: "BILL"},
		},
		ProblemTypes: []ProblemType{
			{ID: "ECS-CONSULT", Name: "Product consultation", CaseType: "0", ProductCategories: []string{"ECS"}, CanUseSupportPlan: true},
			{ID: "ECS-FAULT", Name: "Instance unreachable", CaseType: "5", ProductCategories: []string{"ECS"}, CanUseSupportPlan: true},
			{ID: "OBS-FAULT", Name: "Access denied or slow transfer", CaseType: "5", ProductCategories: []string{"OBS"}, CanUseSupportPlan: true},
			{ID: "RDS-FAULT", Name: "Database failover or crash", CaseType: "5", ProductCategories: []string{"RDS"}, CanUseSupportPlan: true},
			{ID: "QUOTA", Name: "Quota increase", CaseType: "0", ProductCategories: []string{"ECS", "OBS", "RDS"}},
			{ID: "BILL-QUESTION", Name: "Bill or charge question", CaseType: "0", ProductCategories: []string{"BILLING"}},
		},
		Satisfaction: []SatisfactionDimension{
			{ID: 1, Name: "Timeliness", Description: "How quickly the ticket was handled", Value: 5, PerValue: 1, CategoryID: "1"},
			{ID: 3, Name: "Result", Description: "How well the problem was solved", Value: 5, PerValue: 1, CategoryID: "1"},
		},
	}
}

// ProblemType returns the problem type id of c.
func (c Catalogue) ProblemType(id string) (ProblemType, bool) {
	for _, p := range c.ProblemTypes {
		if p.ID == id {
			return p, true
		}
	}
	return ProblemType{}, false
}

// names are the catalogue's names for t.
func (c Catalogue) names(t Ticket) Names {
	n := Names{ProblemType: t.BusinessTypeID}
	if p, ok := c.ProblemType(t.BusinessTypeID); ok {
		n.ProblemType, n.CaseType = p.Name, "Consultation"
		if p.CaseType == "5" {
			n.CaseType = "Fault report"
		}
	}
	for _, p := range c.ProductCategories {
		if p.ID == t.ProductCategoryID {
			n.Category = p.Name
		}
	}
	return n
}
