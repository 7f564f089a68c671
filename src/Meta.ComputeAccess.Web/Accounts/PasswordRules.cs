using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Meta.ComputeAccess.Identity;
using Microsoft.AspNetCore.Identity;
using Zxcvbn.Matcher;

namespace Meta.ComputeAccess.Web.Accounts;

/// <summary>
/// The password rules, once: Identity's options and validators are set from them (<c>Configurations/PortalIdentity.cs</c>),
/// and every form that chooses a password checks them before anything else with <see cref="PortalPasswordAttribute"/>
/// and shows <see cref="Hint"/>, so Register and ResetPassword say the same thing. Length over composition, and no
/// password that is easy to guess (NIST SP 800-63B): Dropbox's zxcvbn estimator must rate it at least
/// <see cref="MinimumScore"/> of 4, with the person's own name and address counted as guessable words.
/// </summary>
public static class PasswordRules
{
    public const int MinimumLength = 12;

    public const int MaximumLength = 256;

    public const int MinimumDistinctCharacters = 4;

    /// <summary>zxcvbn's score (0 to 4, "too guessable" to "very unguessable") a password needs: 3, "safely unguessable".</summary>
    public const int MinimumScore = 3;

    /// <summary>Only the start of a longer password is estimated: the estimate's cost grows with the length, and 100 characters that pass are plenty.</summary>
    private const int EstimatedLength = 100;

    /// <summary>The line under a password field.</summary>
    public static string Hint { get; } = string.Create(CultureInfo.InvariantCulture,
        $"At least {MinimumLength} characters, at least {MinimumDistinctCharacters} of them different, and hard to guess: not a common password, not your name or email. A passphrase of a few uncommon words is easiest.");

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

    /// <summary>
    /// What is wrong with <paramref name="password"/>, in the words the forms show; null when it is acceptable.
    /// <paramref name="personal"/> are the person's name and address, when the caller has them: words an attacker tries first.
    /// </summary>
    public static string? Problem(string password, IEnumerable<string?>? personal = null) =>
        ShapeProblem(password) ?? Guessability(password, personal);

    /// <summary>The length and variety rules alone, which Identity's own validator also applies.</summary>
    internal static string? ShapeProblem(string password) =>
        password.Length < MinimumLength ? TooShort
        : password.Length > MaximumLength ? TooLong
        : password.Distinct().Count() < MinimumDistinctCharacters ? TooFewDistinct
        : null;

    /// <summary>Why zxcvbn rates <paramref name="password"/> below <see cref="MinimumScore"/>, in words; null when it does not.</summary>
    internal static string? Guessability(string password, IEnumerable<string?>? personal)
    {
        var result = Zxcvbn.Zxcvbn.MatchPassword(password.Length > EstimatedLength ? password[..EstimatedLength] : password, PersonalWords(personal));
        if (result.Score >= MinimumScore)
        {
            return null;
        }
        var matches = result.MatchSequence;
        var reason =
            matches.OfType<DictionaryMatch>().Any(m => m.DictionaryName == "user_inputs") ? "it contains your name or email address"
            : matches.OfType<DictionaryMatch>().Any(m => m.DictionaryName == "passwords") ? "it is built from common passwords"
            : matches.Any(m => m.Pattern == "repeat") ? "it repeats the same characters"
            : matches.Any(m => m.Pattern == "sequence") ? "it contains a sequence such as abc or 1234"
            : matches.Any(m => m.Pattern == "spatial") ? "it contains a keyboard pattern such as qwerty"
            : matches.Any(m => m.Pattern is "date" or "year") ? "it contains a date or a year"
            : matches.OfType<DictionaryMatch>().Any() ? "it is made of a few common words"
            : "it is short for the characters it uses";
        return $"This password is too easy to guess: {reason}. Add a word or two that have nothing to do with you.";
    }

    /// <summary>The words of a name and an address (<c>ada.lovelace@engine.example.org</c>: ada, lovelace, engine, …), lower-cased.</summary>
    internal static IEnumerable<string> PersonalWords(IEnumerable<string?>? personal) =>
        (personal ?? [])
            .Where(text => !string.IsNullOrWhiteSpace(text))
            .SelectMany(text => text!.Split([' ', '@', '.', '-', '_', '+', ','], StringSplitOptions.RemoveEmptyEntries).Append(text!))
            .Select(word => word.Trim().ToLowerInvariant())
            // Two-letter pieces (country domains, initials) would match inside unrelated words.
            .Where(word => word.Length >= 3)
            .Distinct(StringComparer.Ordinal);
}

/// <summary>What a form that chooses a password knows of the person: their name and address, as guessable words.</summary>
public interface IPasswordOwnerFields
{
    IEnumerable<string?> PasswordPersonalWords { get; }
}

/// <summary>
/// Identity's check of a password being set (create, reset, change, add): the guessability rule with the account's
/// name and address. The length and variety rules are Identity's own <see cref="PasswordOptions"/>.
/// </summary>
public sealed class GuessablePasswordValidator : IPasswordValidator<PortalUser>
{
    public const string Code = "PasswordTooEasyToGuess";

    public Task<IdentityResult> ValidateAsync(UserManager<PortalUser> manager, PortalUser user, string? password) =>
        Task.FromResult(password is not null && PasswordRules.ShapeProblem(password) is null
                        && PasswordRules.Guessability(password, [user.FullName, user.Email]) is { } problem
            ? IdentityResult.Failed(new IdentityError { Code = Code, Description = problem })
            : IdentityResult.Success);
}

/// <summary>Identity's own password check, should it ever refuse, in the same words as <see cref="PasswordRules"/>.</summary>
public sealed class PortalIdentityErrors : IdentityErrorDescriber
{
    public override IdentityError PasswordTooShort(int length) => new() { Code = nameof(PasswordTooShort), Description = PasswordRules.TooShort };

    public override IdentityError PasswordRequiresUniqueChars(int uniqueChars) =>
        new() { Code = nameof(PasswordRequiresUniqueChars), Description = PasswordRules.TooFewDistinct };
}

/// <summary>
/// Checks a chosen password against <see cref="PasswordRules"/> (an empty one is left to <c>[Required]</c>), with the
/// person's name and address when the form has them (<see cref="IPasswordOwnerFields"/>).
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class PortalPasswordAttribute : ValidationAttribute
{
    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext) =>
        value is string { Length: > 0 } password
        && PasswordRules.Problem(password, (validationContext.ObjectInstance as IPasswordOwnerFields)?.PasswordPersonalWords) is { } problem
            ? new ValidationResult(problem, validationContext.MemberName is { } member ? [member] : null)
            : ValidationResult.Success;
}
