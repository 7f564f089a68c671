using System.Globalization;
using System.Text;

namespace Meta.ComputeAccess.Review;

/// <summary>Why a reviewer may not review a proposal.</summary>
public enum ConflictType
{
    TeamMember,
    SameInstitution,
    SameEmailDomain,
    DeclaredCollaborator,
}

/// <summary>A reviewer as conflict detection sees them.</summary>
/// <param name="InstitutionVerified">The institution came from the reviewer's identity provider, not from typing.</param>
/// <param name="VerifiedOrcidId">The ORCID iD, only when ORCID vouched for it (a typed one proves nothing).</param>
public sealed record ReviewerIdentity(Guid UserId, string? Institution, string? Email, IReadOnlyCollection<Guid> DeclaredCollaborators,
    bool InstitutionVerified = false, string? VerifiedOrcidId = null);

/// <summary>One person on a proposal's team, with the collaborators they declared.</summary>
public sealed record TeamMemberIdentity(Guid UserId, string? Institution, string? Email, IReadOnlyCollection<Guid> DeclaredCollaborators,
    bool InstitutionVerified = false, string? VerifiedOrcidId = null);

/// <summary>A detected conflict between the reviewer and one team member, with a reason an admin can read.</summary>
public sealed record DetectedConflict(ConflictType Type, Guid TeamMemberId, string Reason);

/// <summary>
/// Detects conflicts of interest between a reviewer and a proposal's team. Stateless; every rule
/// is checked against every team member, so an admin sees all reasons, not only the first.
/// </summary>
public sealed class ConflictDetector
{
    public IReadOnlyList<DetectedConflict> Detect(ReviewerIdentity reviewer, IReadOnlyList<TeamMemberIdentity> team)
    {
        ArgumentNullException.ThrowIfNull(reviewer);
        ArgumentNullException.ThrowIfNull(team);

        var conflicts = new List<DetectedConflict>();
        var reviewerInstitution = NormalizeInstitution(reviewer.Institution);
        var reviewerDomain = InstitutionalDomain(reviewer.Email);

        foreach (var member in team)
        {
            if (member.UserId == reviewer.UserId)
            {
                // The other rules would only restate this one against the reviewer themself.
                conflicts.Add(new DetectedConflict(ConflictType.TeamMember, member.UserId, "reviewer is on the proposal team"));
                continue;
            }

            var who = Describe(member);
            if (reviewer.VerifiedOrcidId is { } orcid && orcid == member.VerifiedOrcidId)
            {
                // Two accounts, one person: ORCID vouched for the same iD on both.
                conflicts.Add(new DetectedConflict(ConflictType.TeamMember, member.UserId,
                    $"reviewer and team member {who} have the same verified ORCID iD {orcid}: the same person"));
                continue;
            }
            var memberInstitution = NormalizeInstitution(member.Institution);
            if (reviewerInstitution.Length > 0 && reviewerInstitution == memberInstitution)
            {
                conflicts.Add(new DetectedConflict(ConflictType.SameInstitution, member.UserId,
                    $"same institution as team member {who}: {member.Institution!.Trim()} ({Verification(reviewer.InstitutionVerified, member.InstitutionVerified)})"));
            }

            var memberDomain = InstitutionalDomain(member.Email);
            if (reviewerDomain is not null && reviewerDomain == memberDomain)
            {
                conflicts.Add(new DetectedConflict(ConflictType.SameEmailDomain, member.UserId,
                    $"same email domain as team member {who}: {reviewerDomain}"));
            }

            if (reviewer.DeclaredCollaborators.Contains(member.UserId))
            {
                conflicts.Add(new DetectedConflict(ConflictType.DeclaredCollaborator, member.UserId,
                    $"reviewer declared team member {who} as a collaborator"));
            }
            else if (member.DeclaredCollaborators.Contains(reviewer.UserId))
            {
                conflicts.Add(new DetectedConflict(ConflictType.DeclaredCollaborator, member.UserId,
                    $"team member {who} declared the reviewer as a collaborator"));
            }
        }
        return conflicts;
    }

    /// <summary>
    /// Lower-case, accents removed, "&amp;" read as "and", punctuation and repeated spaces dropped,
    /// a leading "the" ignored: "The Univ. of Oxford" and "univ of oxford" compare equal.
    /// </summary>
    public static string NormalizeInstitution(string? institution)
    {
        if (string.IsNullOrWhiteSpace(institution))
        {
            return string.Empty;
        }
        var decomposed = institution.Replace("&", " and ", StringComparison.Ordinal).Normalize(NormalizationForm.FormD);
        var builder = new StringBuilder(decomposed.Length);
        var pendingSpace = false;
        foreach (var c in decomposed)
        {
            var category = CharUnicodeInfo.GetUnicodeCategory(c);
            if (category == UnicodeCategory.NonSpacingMark)
            {
                continue;
            }
            if (char.IsLetterOrDigit(c))
            {
                if (pendingSpace && builder.Length > 0)
                {
                    builder.Append(' ');
                }
                pendingSpace = false;
                builder.Append(char.ToLowerInvariant(c));
            }
            else if (char.IsWhiteSpace(c) || c is '-' or '_' or '/' or ',')
            {
                pendingSpace = true;
            }
            // Other punctuation (".", "'", "(") is dropped without a break: "U.C.L." → "ucl".
        }
        var normalized = builder.ToString();
        return normalized.StartsWith("the ", StringComparison.Ordinal) ? normalized[4..] : normalized;
    }

    private static string? InstitutionalDomain(string? email)
    {
        var domain = Identity.PortalUser.DomainOf(email);
        if (domain is null || EmailDomains.IsWebmail(domain))
        {
            return null;
        }
        return EmailDomains.RegistrableDomain(domain);
    }

    /// <summary>How far an institution match can be trusted: identity providers vouch for it, or someone typed it.</summary>
    private static string Verification(bool reviewerVerified, bool memberVerified) => (reviewerVerified, memberVerified) switch
    {
        (true, true) => "verified by both identity providers",
        (true, false) => "verified for the reviewer, typed by the team member",
        (false, true) => "typed by the reviewer, verified for the team member",
        _ => "as typed, not verified",
    };

    private static string Describe(TeamMemberIdentity member) =>
        string.IsNullOrWhiteSpace(member.Email) ? member.UserId.ToString() : member.Email.Trim();
}
