namespace Meta.ComputeAccess.OidcProvider;

/// <summary>
/// One person the provider can sign in. <see cref="Subject"/> is the stable id it asserts (<c>sub</c>);
/// <see cref="Amr"/> says how they "authenticated" (<c>mfa</c> counts as a second factor in the portal).
/// </summary>
public sealed record ProviderPerson(
    string Username,
    string Subject,
    string Name,
    string? GivenName,
    string? FamilyName,
    string? Email,
    bool EmailVerified,
    string? Institution,
    IReadOnlyList<string> Affiliations,
    IReadOnlyList<string> Amr,
    string? Acr = null,
    string Description = "");

/// <summary>The people of the test and demo provider (README.md lists them for the demo).</summary>
public static class ProviderPeople
{
    public static readonly IReadOnlyList<ProviderPerson> All =
    [
        new("alice", "alice-7f3a", "Alice Nakamura", "Alice", "Nakamura", "alice.nakamura@uni.example.edu", true,
            "Example State University", ["faculty@uni.example.edu", "member@uni.example.edu"], ["pwd"],
            Description: "faculty member, verified institutional address"),
        new("grace", "grace-41c9", "Grace Okoye", "Grace", "Okoye", "grace.okoye@uni.example.edu", true,
            "Example State University", ["staff@uni.example.edu", "member@uni.example.edu"], ["pwd", "mfa"],
            Description: "signed in with a second factor at her institution (amr=mfa)"),
        new("hiro", "hiro-2b88", "Hiro Tanaka", "Hiro", "Tanaka", "hiro.tanaka@uni.example.edu", true,
            "Example State University", ["member@uni.example.edu"], ["pwd"], Acr: "https://refeds.org/profile/mfa",
            Description: "second factor signalled by acr (REFEDS MFA), not amr"),
        new("josiah", "0000-0002-1825-0097", "Josiah Carberry", "Josiah", "Carberry", null, false,
            null, [], ["pwd"],
            Description: "ORCID-style: the subject is an ORCID iD"),
        new("sam", "sam-90d1", "Sam Rivera", "Sam", "Rivera", "sam.rivera@mail.example.com", false,
            null, [], ["pwd"],
            Description: "email address not verified by the provider"),
        new("amara", "amara-5e02", "Amara Okafor", "Amara", "Okafor", "amara.okafor@lakeside.example.edu", true,
            "Lakeside Institute of Technology", ["faculty@lakeside.example.edu"], ["pwd"],
            Description: "same verified address as an existing password account of the demo"),
    ];

    public static ProviderPerson? Find(string? usernameOrSubject) =>
        All.FirstOrDefault(p => p.Username == usernameOrSubject || p.Subject == usernameOrSubject);
}
