using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Mvc.Rendering;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Account.Notifications;

/// <summary>Per kind of notice: mail immediately, in the daily digest, or not at all. Security mail is fixed.</summary>
public sealed class PreferencesModel(PortalDbContext db, EmailPreferences preferences, IAuthorizationService authorization) : PageModel
{
    public sealed class PreferenceInput
    {
        public string Kind { get; set; } = "";

        public NotificationMode Mode { get; set; }
    }

    [BindProperty]
    public List<PreferenceInput> Input { get; set; } = [];

    /// <summary>The kinds this user can receive, in page order; security kinds are listed but not editable.</summary>
    public IReadOnlyList<NotificationKind> Kinds { get; private set; } = [];

    public static IReadOnlyList<SelectListItem> ModeOptions { get; } =
    [
        new("Email immediately", nameof(NotificationMode.Immediate)),
        new("In the daily digest", nameof(NotificationMode.DailyDigest)),
        new("No email (in the portal only)", nameof(NotificationMode.Off)),
    ];

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var audiences = await AudiencesAsync();
        Kinds = [.. NotificationKinds.All.Where(k => audiences.Contains(k.Audience))];
        var saved = await Saved(cancellationToken);
        Input = [.. Kinds.Where(k => !k.Security).Select(k => new PreferenceInput { Kind = k.Key, Mode = saved.GetValueOrDefault(k.Key, NotificationMode.Immediate) })];
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var audiences = await AudiencesAsync();
        Kinds = [.. NotificationKinds.All.Where(k => audiences.Contains(k.Audience))];
        if (!ModelState.IsValid)
        {
            return Page();
        }
        return await this.RunAsync(async () =>
        {
            await preferences.SaveAsync(User.GetUserId(), [.. Input.Select(i => new EmailChoice(i.Kind, i.Mode))], audiences, cancellationToken);
            TempData.Status("Your email preferences are saved.");
            return RedirectToPage();
        }, fieldPrefix: nameof(Input));
    }

    /// <summary>Whom this session may act as, from the policies: a password-only session of staff gets no staff notices to configure.</summary>
    private async Task<HashSet<NotificationAudience>> AudiencesAsync()
    {
        var staff = await authorization.StaffAccessAsync(User);
        return
        [
            NotificationAudience.Everyone,
            .. staff.Researcher ? [NotificationAudience.Researchers] : Array.Empty<NotificationAudience>(),
            .. staff.Reviewer ? [NotificationAudience.Reviewers] : Array.Empty<NotificationAudience>(),
            .. staff.Admin ? [NotificationAudience.Admins] : Array.Empty<NotificationAudience>(),
            .. staff.Compliance ? [NotificationAudience.ComplianceOfficers] : Array.Empty<NotificationAudience>(),
            .. staff.Safety ? [NotificationAudience.SafetyReviewers] : Array.Empty<NotificationAudience>(),
        ];
    }

    private async Task<Dictionary<string, NotificationMode>> Saved(CancellationToken cancellationToken)
    {
        var userId = User.GetUserId();
        return await db.NotificationPreferences.AsNoTracking().Where(p => p.UserId == userId)
            .ToDictionaryAsync(p => p.Kind, p => p.Mode, StringComparer.Ordinal, cancellationToken);
    }
}
