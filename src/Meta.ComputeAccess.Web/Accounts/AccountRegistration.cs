using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Microsoft.AspNetCore.Identity;

namespace Meta.ComputeAccess.Web.Accounts;

/// <summary>
/// Registration, answered alike for new and taken addresses (docs/decisions/0006-sign-in-answers-alike.md). A new
/// address gets an account and a confirmation link. A taken one gets no account: its owner is mailed that someone
/// tried (or, while the account is unconfirmed, a fresh confirmation link). Both paths check and hash the chosen
/// password and queue one mail, so neither answers sooner than the other.
/// </summary>
public sealed class AccountRegistration(UserManager<PortalUser> users, PortalDbContext db, AccountEmails emails)
{
    /// <summary>
    /// Registers <paramref name="candidate"/> (its email, name and profile set) with <paramref name="password"/>.
    /// Fails only for Identity's own refusals, which the form's checks normally answer first.
    /// </summary>
    public async Task<IdentityResult> RegisterAsync(PortalUser candidate, string password)
    {
        if (await users.FindByEmailAsync(candidate.Email!) is { } owner)
        {
            // The work a new account costs: the password rules and the hash (thrown away).
            var checkedPassword = await ValidatePasswordAsync(candidate, password);
            _ = users.PasswordHasher.HashPassword(candidate, password);
            if (!checkedPassword.Succeeded)
            {
                return checkedPassword;
            }
            await (owner.EmailConfirmed ? emails.QueueRegistrationAttemptAsync(owner) : emails.QueueConfirmationAsync(owner));
            await db.SaveChangesAsync();
            return IdentityResult.Success;
        }

        await using var tx = await db.Database.BeginTransactionAsync();
        var created = await users.CreateAsync(candidate, password);
        if (!created.Succeeded)
        {
            return created;
        }
        (await users.AddToRoleAsync(candidate, Roles.Researcher)).ThrowIfFailed();
        await emails.QueueConfirmationAsync(candidate);
        await db.SaveChangesAsync();
        await tx.CommitAsync();
        return IdentityResult.Success;
    }

    private async Task<IdentityResult> ValidatePasswordAsync(PortalUser candidate, string password)
    {
        var errors = new List<IdentityError>();
        foreach (var validator in users.PasswordValidators)
        {
            errors.AddRange((await validator.ValidateAsync(users, candidate, password)).Errors);
        }
        return errors.Count == 0 ? IdentityResult.Success : IdentityResult.Failed([.. errors]);
    }
}
