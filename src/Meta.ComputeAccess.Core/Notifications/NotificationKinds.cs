namespace Meta.ComputeAccess.Notifications;

/// <summary>Who a kind of notice is for; groups the preferences page.</summary>
public enum NotificationAudience
{
    Everyone,
    Researchers,
    Reviewers,
    Admins,
    ComplianceOfficers,
    SafetyReviewers,
}

/// <summary>A kind of notice: its key (also its template's name), what it is for, and the rules that bind it.</summary>
/// <param name="Key">The stable key stored in rows and templates, for example <c>review.assigned</c>.</param>
/// <param name="Description">What the user receives, as shown on the preferences page.</param>
/// <param name="Security">Security mail is always sent immediately and cannot be turned off.</param>
/// <param name="InApp">Whether the notice also appears under the bell (not for links that carry a secret token).</param>
public sealed record NotificationKind(string Key, string Description, NotificationAudience Audience, bool Security = false, bool InApp = true);

/// <summary>Every kind of notice the portal sends, in one place. Modules pass these keys to <see cref="Notifier"/>.</summary>
public static class NotificationKinds
{
    public const string AccountConfirm = "account.confirm";
    public const string AccountReset = "account.reset";
    public const string AccountRegistrationAttempt = "account.registration-attempt";
    public const string SecuritySignIn = "security.sign-in";
    public const string AccountLink = "account.link";
    public const string SecurityLoginLinked = "security.login-linked";
    public const string ProposalSubmitted = "proposal.submitted";
    public const string CoInvestigatorInvited = "coinvestigator.invited";
    public const string ReviewAssigned = "review.assigned";
    public const string ReviewDue = "review.due";
    public const string ReviewOverdue = "review.overdue";
    public const string DecisionReleased = "decision.released";
    public const string AwardAccepted = "award.accepted";
    public const string AwardDeclined = "award.declined";
    public const string AllocationActive = "allocation.active";
    public const string QuotaThreshold = "quota.threshold";
    public const string QuotaProjectedExhaustion = "quota.projected-exhaustion";
    public const string AllocationExpiring = "allocation.expiring";
    public const string SupplementDecided = "supplement.decided";
    public const string AdminUnmatchedUsage = "admin.unmatched-usage";
    public const string AdminJobFailed = "admin.job-failed";
    public const string AllocationIdle = "allocation.idle";
    public const string AllocationEnded = "allocation.ended";
    public const string ReportRequested = "report.requested";
    public const string ReportDue = "report.due";
    public const string ReportOverdue = "report.overdue";
    public const string ReportAccepted = "report.accepted";
    public const string ReportSubmitted = "admin.report-submitted";
    public const string AllocationMemberInvited = "allocation.member-invited";
    public const string AdminLoginProposed = "admin.login-proposed";
    public const string AdminClusterSilent = "admin.cluster-silent";
    public const string ResponseOpen = "response.open";
    public const string ResponseSubmitted = "response.submitted";
    public const string AppealFiled = "appeal.filed";
    public const string AppealDecided = "appeal.decided";
    public const string ComplianceHits = "compliance.hits";
    public const string SafetyFlagged = "safety.flagged";
    public const string SafetyDecided = "safety.decided";

    public static readonly IReadOnlyList<NotificationKind> All =
    [
        new(AccountConfirm, "Confirm your email address", NotificationAudience.Everyone, Security: true, InApp: false),
        new(AccountReset, "Reset your password", NotificationAudience.Everyone, Security: true, InApp: false),
        new(AccountRegistrationAttempt, "Someone tried to register with your address", NotificationAudience.Everyone, Security: true),
        new(SecuritySignIn, "A new sign-in to your account", NotificationAudience.Everyone, Security: true),
        new(AccountLink, "Link a sign-in with your institution or ORCID to your account", NotificationAudience.Everyone, Security: true, InApp: false),
        new(SecurityLoginLinked, "A new way to sign in was linked to your account", NotificationAudience.Everyone, Security: true),
        new(ProposalSubmitted, "A proposal of your team was submitted", NotificationAudience.Researchers),
        new(CoInvestigatorInvited, "You were invited as a co-investigator", NotificationAudience.Researchers),
        new(DecisionReleased, "The decision on your proposal was released", NotificationAudience.Researchers),
        new(AwardAccepted, "An award was accepted", NotificationAudience.Researchers),
        new(AllocationActive, "Your allocation is active", NotificationAudience.Researchers),
        new(QuotaThreshold, "Your quota reached 50, 80 or 100 %", NotificationAudience.Researchers),
        new(QuotaProjectedExhaustion, "Your quota will run out before the allocation ends", NotificationAudience.Researchers),
        new(AllocationExpiring, "Your allocation expires in 30 or 7 days", NotificationAudience.Researchers),
        new(SupplementDecided, "Your supplement or extension request was decided", NotificationAudience.Researchers),
        new(AllocationIdle, "Your allocation has had no jobs for 30 days", NotificationAudience.Researchers),
        new(AllocationEnded, "Your allocation ended and its unused hours expired", NotificationAudience.Researchers),
        new(ReportRequested, "A progress or final report on your allocation is asked for", NotificationAudience.Researchers),
        new(ReportDue, "A report on your allocation is due in a few days", NotificationAudience.Researchers),
        new(ReportOverdue, "A report on your allocation is overdue", NotificationAudience.Researchers),
        new(ReportAccepted, "The program accepted your report", NotificationAudience.Researchers),
        new(AllocationMemberInvited, "You were invited to run jobs under an allocation", NotificationAudience.Researchers),
        new(ResponseOpen, "You may respond to the reviews of your proposal", NotificationAudience.Researchers),
        new(AppealDecided, "Your appeal of a decision was decided", NotificationAudience.Researchers),
        new(ResponseSubmitted, "Applicants responded to reviews of a proposal you reviewed", NotificationAudience.Reviewers),
        new(ReviewAssigned, "A proposal was assigned to you for review", NotificationAudience.Reviewers),
        new(ReviewDue, "A review is due in 3 days", NotificationAudience.Reviewers),
        new(ReviewOverdue, "A review is overdue", NotificationAudience.Reviewers),
        new(AwardDeclined, "A PI declined an award", NotificationAudience.Admins),
        new(AppealFiled, "An applicant appealed a decision", NotificationAudience.Admins),
        new(AdminUnmatchedUsage, "A cluster sent usage for an unknown account", NotificationAudience.Admins),
        new(AdminJobFailed, "A background job failed", NotificationAudience.Admins),
        new(ReportSubmitted, "A team submitted a progress or final report", NotificationAudience.Admins),
        new(AdminLoginProposed, "Someone proposed their login on a cluster", NotificationAudience.Admins),
        new(AdminClusterSilent, "A cluster's agent stopped reporting", NotificationAudience.Admins),
        new(ComplianceHits, "Screening found new hits for the compliance queue", NotificationAudience.ComplianceOfficers),
        new(SafetyFlagged, "A proposal entered the safety track", NotificationAudience.SafetyReviewers),
        new(SafetyDecided, "A safety reviewer signed a proposal off", NotificationAudience.Admins),
    ];

    private static readonly Dictionary<string, NotificationKind> ByKey = All.ToDictionary(k => k.Key, StringComparer.Ordinal);

    public static NotificationKind Get(string key) =>
        ByKey.TryGetValue(key, out var kind) ? kind : throw new ArgumentException($"Unknown notification kind '{key}'.", nameof(key));

    public static bool IsKnown(string? key) => key is not null && ByKey.ContainsKey(key);

    /// <summary>What a kind of notice is, for people ("An award was accepted"); the key itself when it is not known.</summary>
    public static string Describe(string key) => ByKey.TryGetValue(key, out var kind) ? kind.Description : key;

    public static bool IsSecurity(string key) => Get(key).Security;
}
