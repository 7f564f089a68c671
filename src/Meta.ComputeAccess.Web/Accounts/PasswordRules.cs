using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.AspNetCore.Identity;

namespace Meta.ComputeAccess.Web.Accounts;

/// <summary>
/// The password rules, once: Identity's options are set from them (<c>Configurations/PortalIdentity.cs</c>), and every
/// form that chooses a password checks them before anything else with <see cref="PortalPasswordAttribute"/> and shows
/// <see cref="Hint"/>, so Register and ResetPassword say the same thing. Length over composition (NIST SP 800-63B).
/// </summary>
public static class PasswordRules
{
    public const int MinimumLength = 12;

    public const int MaximumLength = 256;

    public const int MinimumDistinctCharacters = 4;

    /// <summary>The line under a password field.</summary>
    public static string Hint { get; } = string.Create(CultureInfo.InvariantCulture,
        $"At least {MinimumLength} characters, at least {MinimumDistinctCharacters} of them different. A passphrase is easiest.");

    public static void Apply(PasswordOptions options)
    {
        options.RequiredLength = MinimumLength;
        options.RequiredUniqueChars = MinimumDistinctCharacters;
        options.RequireNonAlphanumeric = false;
        options.RequireUppercase = false;
        options.RequireLowercase = false;
        options.RequireDigit = false;
    }

    public static string TooShort { get; } = string.Create(CultureInfo.InvariantCulture, $"The password must be at least {MinimumLength} characters.");

    public static string TooLong { get; } = string.Create(CultureInfo.InvariantCulture, $"The password must be at most {MaximumLength} characters.");

    public static string TooFewDistinct { get; } = string.Create(CultureInfo.InvariantCulture, $"The password must use at least {MinimumDistinctCharacters} different characters.");

    /// <summary>What is wrong with <paramref name="password"/>, in the words the forms show; null when it is acceptable.</summary>
    public static string? Problem(string password) =>
        password.Length < MinimumLength ? TooShort
        : password.Length > MaximumLength ? TooLong
        : password.Distinct().Count() < MinimumDistinctCharacters ? TooFewDistinct
        : null;
}

/// <summary>Identity's own password check, should it ever refuse, in the same words as <see cref="PasswordRules"/>.</summary>
public sealed class PortalIdentityErrors : IdentityErrorDescriber
{
    public override IdentityError PasswordTooShort(int length) => new() { Code = nameof(PasswordTooShort), Description = PasswordRules.TooShort };

    public override IdentityError PasswordRequiresUniqueChars(int uniqueChars) =>
        new() { Code = nameof(PasswordRequiresUniqueChars), Description = PasswordRules.TooFewDistinct };
}

/// <summary>Checks a chosen password against <see cref="PasswordRules"/> (an empty one is left to <c>[Required]</c>).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class PortalPasswordAttribute : ValidationAttribute
{
    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext) =>
        value is string { Length: > 0 } password && PasswordRules.Problem(password) is { } problem
            ? new ValidationResult(problem, validationContext.MemberName is { } member ? [member] : null)
            : ValidationResult.Success;
}
