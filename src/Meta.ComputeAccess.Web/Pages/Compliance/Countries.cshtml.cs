using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Compliance;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Compliance;

/// <summary>Country rules: the program's (one level per country) and each call's additions; every change re-screens open proposals and allocations.</summary>
public sealed class CountriesModel(PortalDbContext db, CountryPolicies policies) : PageModel
{
    public sealed record ProgramRule(string Country, CountryLevel Level, DateTimeOffset ChangedAt, string? ChangedBy);

    public sealed record CallRules(Guid Id, string Title, CallStatus Status, IReadOnlyList<string> Embargoed, IReadOnlyList<string> Restricted);

    public IReadOnlyList<ProgramRule> Program { get; private set; } = [];

    public IReadOnlyList<CallRules> Calls { get; private set; } = [];

    public Task OnGetAsync(CancellationToken cancellationToken) => LoadAsync(cancellationToken);

    public Task<IActionResult> OnPostProgramAsync(string? country, CountryLevel level, CancellationToken cancellationToken) =>
        ActAsync(async () =>
        {
            await policies.SetProgramRuleAsync(country ?? "", level, User.GetUserId(), cancellationToken);
            return $"{Countries.NameOf(country?.Trim().ToUpperInvariant())} is now {level.ToString().ToLowerInvariant()} for every call. Open proposals and allocations are being screened again.";
        }, "country", cancellationToken);

    public Task<IActionResult> OnPostCallAsync(Guid callId, string? embargoed, string? restricted, CancellationToken cancellationToken) =>
        ActAsync(async () =>
        {
            await policies.SetCallRulesAsync(callId, Codes(embargoed), Codes(restricted), User.GetUserId(), cancellationToken);
            return "The call's country rules are saved. Open proposals and allocations are being screened again.";
        }, "", cancellationToken);

    /// <summary>Codes as typed: separated by commas, semicolons or spaces.</summary>
    private static string[] Codes(string? text) => (text ?? "").Split([',', ';', ' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries);

    private Task<IActionResult> ActAsync(Func<Task<string>> action, string field, CancellationToken cancellationToken) =>
        this.RunAsync(async () =>
        {
            TempData.Status(await action());
            return RedirectToPage();
        }, async () =>
        {
            await LoadAsync(cancellationToken);
            return Page();
        }, field);

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var rules = await (from r in db.CountryRules.AsNoTracking()
                           join u in db.Users on r.ChangedByUserId equals u.Id into changer
                           from u in changer.DefaultIfEmpty()
                           select new ProgramRule(r.Country, r.Level, r.ChangedAt, u.FullName)).ToListAsync(cancellationToken);
        Program = [.. rules.OrderByDescending(r => r.Level).ThenBy(r => Countries.NameOf(r.Country), StringComparer.CurrentCulture)];
        Calls = await db.Calls.AsNoTracking().Where(c => c.Status != CallStatus.Archived).OrderByDescending(c => c.CreatedAt)
            .Select(c => new CallRules(c.Id, c.Title, c.Status, c.EmbargoedCountries, c.RestrictedCountries)).ToListAsync(cancellationToken);
    }
}
