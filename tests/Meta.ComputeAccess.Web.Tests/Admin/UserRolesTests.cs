using System.Net;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Meta.ComputeAccess.Web.Tests.Admin;

public sealed class UserRolesTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task Admin_grants_and_revokes_a_role_and_each_change_is_audited()
    {
        var admin = await factory.CreateUserAsync("boss@program.example.org", [Roles.Admin, Roles.Researcher]);
        var subject = await factory.CreateUserAsync("future.reviewer@example.edu");
        using var client = new PortalClient(factory);
        await client.SignInAsync(admin.Email!);

        var page = $"/Admin/Users/Edit?id={subject.Id}";
        using (var grant = await client.PostFormAsync(page, new Dictionary<string, string> { ["role"] = Roles.Reviewer }, page + "&handler=Grant"))
        {
            Assert.Equal(HttpStatusCode.Redirect, grant.StatusCode);
        }
        await using var db = factory.NewDbContext();
        Assert.Contains(Roles.Reviewer, await RolesOf(db, subject.Id));
        var granted = await db.AuditEntries.SingleAsync(a => a.SubjectId == subject.Id.ToString() && a.Action == "role.granted");
        Assert.Equal(admin.Id, granted.ActorUserId);
        Assert.Contains("Reviewer", granted.Summary, StringComparison.Ordinal);

        using (var revoke = await client.PostFormAsync(page, new Dictionary<string, string> { ["role"] = Roles.Reviewer }, page + "&handler=Revoke"))
        {
            Assert.Equal(HttpStatusCode.Redirect, revoke.StatusCode);
        }
        Assert.DoesNotContain(Roles.Reviewer, await RolesOf(db, subject.Id));
        Assert.Equal(1, await db.AuditEntries.CountAsync(a => a.SubjectId == subject.Id.ToString() && a.Action == "role.revoked"));
    }

    [Fact]
    public async Task Unknown_role_changes_nothing()
    {
        var admin = await factory.CreateUserAsync("boss2@program.example.org", [Roles.Admin]);
        var subject = await factory.CreateUserAsync("someone@example.edu");
        using var client = new PortalClient(factory);
        await client.SignInAsync(admin.Email!);
        var page = $"/Admin/Users/Edit?id={subject.Id}";
        using var response = await client.PostFormAsync(page, new Dictionary<string, string> { ["role"] = "SuperUser" }, page + "&handler=Grant");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        await using var db = factory.NewDbContext();
        Assert.Equal([Roles.Researcher], await RolesOf(db, subject.Id));
        Assert.False(await db.AuditEntries.AnyAsync(a => a.SubjectId == subject.Id.ToString()));
    }

    [Fact]
    public async Task Researcher_cannot_change_roles()
    {
        var researcher = await factory.CreateUserAsync("climber@example.edu");
        using var client = new PortalClient(factory);
        await client.SignInAsync(researcher.Email!);
        using var response = await client.GetAsync($"/Admin/Users/Edit?id={researcher.Id}");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/Account/AccessDenied", response.Headers.Location!.AbsolutePath, StringComparison.Ordinal);
        using var jobs = await client.GetAsync("/admin/jobs");
        Assert.Equal(HttpStatusCode.Redirect, jobs.StatusCode);
        Assert.StartsWith("/Account/AccessDenied", jobs.Headers.Location!.AbsolutePath, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_database_refuses_to_change_or_delete_audit_entries()
    {
        await using var db = factory.NewDbContext();
        db.AuditEntries.Add(Meta.ComputeAccess.Audit.AuditEntry.Create(DateTimeOffset.UtcNow, null, "test.entry", "test", "1", "A test entry"));
        await db.SaveChangesAsync();

        var update = await Assert.ThrowsAsync<PostgresException>(() => db.Database.ExecuteSqlRawAsync("UPDATE audit_entries SET summary = 'rewritten'"));
        Assert.Contains("append-only", update.MessageText, StringComparison.Ordinal);
        await Assert.ThrowsAsync<PostgresException>(() => db.Database.ExecuteSqlRawAsync("DELETE FROM audit_entries"));
        await Assert.ThrowsAsync<PostgresException>(() => db.Database.ExecuteSqlRawAsync("TRUNCATE audit_entries"));
        Assert.True(await db.AuditEntries.AnyAsync(a => a.Action == "test.entry" && a.Summary == "A test entry"));
    }

    private static Task<List<string>> RolesOf(Meta.ComputeAccess.Data.PortalDbContext db, Guid userId) =>
        db.UserRoles.Where(ur => ur.UserId == userId).Join(db.Roles, ur => ur.RoleId, r => r.Id, (_, r) => r.Name!).ToListAsync();
}
