using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Meta.ComputeAccess.Web.Pages.Account;

public sealed class ProfileModel(UserManager<PortalUser> users, SignInManager<PortalUser> signIn) : PageModel
{
    [BindProperty]
    public ProfileFields Input { get; set; } = new();

    public string Email { get; private set; } = "";

    public string? EmailDomain { get; private set; }

    public IList<string> UserRoles { get; private set; } = [];

    public IReadOnlyList<string> VerifiedAffiliations { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync()
    {
        var user = await users.GetUserAsync(User);
        if (user is null)
        {
            return NotFound();
        }
        Input = new ProfileFields { FullName = user.FullName, Institution = user.Institution, Country = user.Country, OrcidId = user.OrcidId, TimeZoneId = user.TimeZoneId, ResearchFields = user.ResearchFields };
        await Describe(user);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var user = await users.GetUserAsync(User);
        if (user is null)
        {
            return NotFound();
        }
        if (!ModelState.IsValid)
        {
            await Describe(user);
            return Page();
        }
        Input.ApplyTo(user);
        var result = await users.UpdateAsync(user);
        if (!result.Succeeded)
        {
            ModelState.AddModelError(string.Empty, string.Join(" ", result.Errors.Select(e => e.Description)));
            await Describe(user);
            return Page();
        }
        await signIn.RefreshSignInAsync(user);
        TempData.Status("Profile saved.");
        return RedirectToPage();
    }

    private async Task Describe(PortalUser user)
    {
        Email = user.Email ?? "";
        // A confirmed address can still have no domain worth comparing (admin@localhost).
        EmailDomain = user.EmailDomain ?? (user.EmailConfirmed ? "none" : null);
        VerifiedAffiliations = user.VerifiedAffiliations;
        ViewData["InstitutionVerified"] = user.InstitutionVerified;
        ViewData["OrcidVerified"] = user.OrcidIdVerified;
        UserRoles = await users.GetRolesAsync(user);
    }
}
