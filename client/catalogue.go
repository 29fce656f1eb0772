package client

import (
	"context"

	"github.com/osmstub/osmstub/gen/osmclient"
)

// ProductCategory is a product a ticket may be opened for.
type ProductCategory struct {
	ID                string // for NewCase.ProductCategoryID
	Name              string
	Description       string // "" when the catalogue says nothing
	Acronym           string // "" when the catalogue gives none
	CanUseSupportPlan bool   // tickets may use a support plan's benefits
}

// CaseType is the kind of ticket a problem type opens.
type CaseType string

// Case types of the catalogue.
const (
	CaseTypeConsultation CaseType = "0"
	CaseTypeFault        CaseType = "5" // a fault report: NewCase.RegionID is required
)

// ProblemType is a problem a ticket may be opened with.
type ProblemType struct {
	ID                string // for NewCase.ProblemTypeID
	Name              string
	CaseType          CaseType
	CanUseSupportPlan bool
}

// ListProductCategories returns the product categories in catalogue
// order; with nameContains, only those whose name contains it (ignoring
// case).
func (c *Client) ListProductCategories(ctx context.Context, nameContains string) ([]ProductCategory, error) {
	if err := checkOptional("nameContains", nameContains, MaxCatalogueIDLen); err != nil {
		return nil, err
	}
	params := &osmclient.ListProductCategoriesParams{ProductCategoryName: optional(nameContains),
		XLanguage: c.lang(), XTimeZone: c.tz(), XSite: site[osmclient.ListProductCategoriesParamsXSite](c.cfg.site)}
	resp, err := c.api.ListProductCategories(ctx, params)
	var body osmclient.ProductCategoryList
	if err := c.result("ListProductCategories", resp, err, &body); err != nil {
		return nil, err
	}
	out := []ProductCategory{}
	for _, p := range deref(body.IncidentProductCategoryList) {
		out = append(out, ProductCategory{
			ID: p.IncidentProductCategoryId, Name: p.IncidentProductCategoryName, Description: deref(p.IncidentProductCategoryDesc),
			Acronym: deref(p.IncidentProductCategoryAcronym), CanUseSupportPlan: p.CanUseSupportPlan,
		})
	}
	return out, nil
}

// ListProblemTypes returns the problem types in catalogue order; with
// productCategoryID, only those offered for that product category.
func (c *Client) ListProblemTypes(ctx context.Context, productCategoryID string) ([]ProblemType, error) {
	if err := checkOptional("productCategoryID", productCategoryID, MaxCatalogueIDLen); err != nil {
		return nil, err
	}
	params := &osmclient.ListProblemTypesParams{ProductCategoryId: optional(productCategoryID),
		XLanguage: c.lang(), XTimeZone: c.tz(), XSite: site[osmclient.ListProblemTypesParamsXSite](c.cfg.site)}
	resp, err := c.api.ListProblemTypes(ctx, params)
	var body osmclient.ProblemTypeList
	if err := c.result("ListProblemTypes", resp, err, &body); err != nil {
		return nil, err
	}
	out := []ProblemType{}
	for _, p := range deref(body.IncidentBusinessTypeList) {
		out = append(out, ProblemType{ID: p.BusinessTypeId, Name: p.BusinessTypeName, CaseType: CaseType(p.CaseType), CanUseSupportPlan: p.CanUseSupportPlan})
	}
	return out, nil
}
