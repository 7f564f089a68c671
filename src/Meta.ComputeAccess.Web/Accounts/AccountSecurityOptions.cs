namespace Meta.ComputeAccess.Web.Accounts;

/// <summary>The <c>Security:*</c> settings: two-factor for staff and the session limits (docs/operations.md, "Accounts and roles").</summary>
public sealed class AccountSecurityOptions
{
    public const string Section = "Security";

    /// <summary>Admin and Reviewer pages need an account with two-factor on and a session signed in with it.</summary>
    public bool RequireTwoFactorForStaff { get; set; } = true;

    /// <summary>A session unused for this long ends (sliding: every request restarts it).</summary>
    public int IdleTimeoutMinutes { get; set; } = 30;

    /// <summary>The idle limit of a session signed in with "Keep me signed in"; the absolute limit still applies.</summary>
    public int RememberMeIdleTimeoutHours { get; set; } = 8;

    /// <summary>A session ends this long after its sign-in, however busy it is.</summary>
    public int AbsoluteSessionHours { get; set; } = 12;

    public TimeSpan IdleTimeout => TimeSpan.FromMinutes(Math.Max(1, IdleTimeoutMinutes));

    public TimeSpan RememberMeIdleTimeout => TimeSpan.FromHours(Math.Max(1, RememberMeIdleTimeoutHours));

    public TimeSpan AbsoluteSessionLimit => TimeSpan.FromHours(Math.Max(1, AbsoluteSessionHours));
}
