namespace Meta.ComputeAccess.Identity;

/// <summary>The roles of the portal. Authorization policies of the same names require them.</summary>
public static class Roles
{
    public const string Researcher = "Researcher";
    public const string Reviewer = "Reviewer";
    public const string Admin = "Admin";

    /// <summary>Compliance officers: screening lists, country rules and the queue of screening hits.</summary>
    public const string Compliance = "Compliance";

    /// <summary>Safety reviewers: sign off proposals in the safety and ethics track (personal data, human subjects, dual use, large requests).</summary>
    public const string Safety = "Safety";

    public static readonly IReadOnlyList<string> All = [Researcher, Reviewer, Admin, Compliance, Safety];

    public static bool IsKnown(string? role) => role is not null && All.Contains(role, StringComparer.Ordinal);
}
