using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Identity;

/// <summary>What a role change did: <see cref="Changed"/> is false when the user already was as asked.</summary>
public sealed record RoleChange(bool Changed, string Message);

/// <summary>
/// Admins grant and revoke roles. Each change rotates the user's security stamp (their other sessions pick it up at
/// the next validation) and is audited, all in one transaction; the last admin keeps the Admin role.
/// </summary>
public sealed class UserAdministration(UserManager<PortalUser> users, PortalDbContext db, AuditLog audit)
{
    public Task<RoleChange> GrantRoleAsync(Guid userId, string role, Guid admin, CancellationToken cancellationToken) =>
        ChangeRoleAsync(userId, role, grant: true, admin, cancellationToken);

    public Task<RoleChange> RevokeRoleAsync(Guid userId, string role, Guid admin, CancellationToken cancellationToken) =>
        ChangeRoleAsync(userId, role, grant: false, admin, cancellationToken);

    private async Task<RoleChange> ChangeRoleAsync(Guid userId, string role, bool grant, Guid admin, CancellationToken cancellationToken)
    {
        if (!Roles.IsKnown(role))
        {
            throw new DomainException("Unknown role.");
        }
        // UserManager saves each of its steps; the transaction makes them, and the audit entry, one change.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var revokingAdmin = !grant && role == Roles.Admin;
        if (revokingAdmin)
        {
            // Two admins revoking each other at once: the second waits here, then counts one admin and is refused.
            await db.Database.ExecuteSqlAsync($"SELECT 1 FROM roles WHERE name = {Roles.Admin} FOR UPDATE", cancellationToken);
        }
        var user = await users.FindByIdAsync(userId.ToString()) ?? throw new DomainException("No such user.");
        if (await users.IsInRoleAsync(user, role) == grant)
        {
            return new RoleChange(false, grant ? $"{user.FullName} already has the {role} role." : $"{user.FullName} does not have the {role} role.");
        }
        if (revokingAdmin && await db.UserRoles.CountAsync(ur => db.Roles.Any(r => r.Id == ur.RoleId && r.Name == Roles.Admin), cancellationToken) <= 1)
        {
            throw new DomainException("This is the last admin: grant the Admin role to someone else first.");
        }
        (grant ? await users.AddToRoleAsync(user, role) : await users.RemoveFromRoleAsync(user, role)).ThrowIfFailed();
        (await users.UpdateSecurityStampAsync(user)).ThrowIfFailed();
        audit.Record(admin, grant ? "role.granted" : "role.revoked", "user", user.Id.ToString(),
            grant ? $"Granted role {role} to {user.FullName} <{user.Email}>" : $"Revoked role {role} from {user.FullName} <{user.Email}>");
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new RoleChange(true, grant ? $"Granted {role} to {user.FullName}." : $"Revoked {role} from {user.FullName}.");
    }
}
