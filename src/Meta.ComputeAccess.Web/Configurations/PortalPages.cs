namespace Meta.ComputeAccess.Web.Configurations;

internal static class PortalPages
{
    public static void AddPortalPages(this WebApplicationBuilder builder)
    {
        builder.Services.AddRazorPages(options =>
        {
            // Access by folder: the URL says who may open a page.
            options.Conventions.AuthorizeFolder("/Admin", Policies.Admin);
            options.Conventions.AuthorizeFolder("/Reviews", Policies.Reviewer);
            options.Conventions.AuthorizeFolder("/Compliance", Policies.Compliance);
            options.Conventions.AuthorizeFolder("/Safety", Policies.Safety);
            // Any signed-in user; each page then shows only what AllocationVisibility allows (404 otherwise).
            options.Conventions.AuthorizeFolder("/Allocations");
        });
        // Optional text fields are non-nullable strings that default to ""; [Required] is always written out where meant.
        builder.Services.Configure<Microsoft.AspNetCore.Mvc.MvcOptions>(o =>
        {
            o.SuppressImplicitRequiredAttributeForNonNullableReferenceTypes = true;
            o.Filters.Add<Platform.RequestGuards>();
        });
        // The flash-message cookie follows the same rules as the others: Secure outside development.
        builder.Services.Configure<Microsoft.AspNetCore.Mvc.CookieTempDataProviderOptions>(o =>
        {
            o.Cookie.Name = "mca.tmp";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.Cookie.SecurePolicy = builder.Environment.SecurePolicy();
        });
        builder.Services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "mca.af";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = builder.Environment.SecurePolicy();
        });
        builder.Services.AddHttpContextAccessor();
    }
}
