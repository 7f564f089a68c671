using System.Net;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Meta.ComputeAccess.Web.Tests.Allocation;

/// <summary>Who is on an allocation: invited by the PI, accepting or declining, removed; every change in the append-only history.</summary>
public sealed class AllocationMemberTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private async Task<(Meta.ComputeAccess.Allocations.Allocation Allocation, PortalUser Pi)> AllocationAsync(string name)
    {
        var cluster = await factory.CreateClusterAsync(name);
        var period = await factory.CreatePeriodAsync(name + " period");
        await factory.SetCapacityAsync(cluster, period, 1_000m);
        var pi = await factory.CreateUserAsync($"{name}.pi@example.edu");
        return (await factory.GrantAsync(period, pi.Id, $"Project {name}", new Dictionary<Guid, decimal> { [cluster.Id] = 10m }, account: $"{name}-acct"), pi);
    }

    [Fact]
    public async Task An_invited_person_is_told_sees_nothing_until_they_accept_and_then_sees_the_allocation()
    {
        var (allocation, pi) = await AllocationAsync("invite");
        var invitee = await factory.CreateUserAsync("invite.member@example.edu");
        using var piClient = new PortalClient(factory);
        await piClient.SignInAsync(pi.Email!);
        using (var invited = await piClient.PostFormAsync($"/Allocations/{allocation.Id}", new Dictionary<string, string> { ["memberEmail"] = invitee.Email! },
            $"/Allocations/{allocation.Id}?handler=InviteMember"))
        {
            Assert.Equal(HttpStatusCode.Redirect, invited.StatusCode);
        }
        await using (var db = factory.NewDbContext())
        {
            var notice = await db.Notifications.SingleAsync(n => n.UserId == invitee.Id && n.Kind == NotificationKinds.AllocationMemberInvited);
            Assert.Equal("/Allocations/Invitations", notice.Link);
            Assert.True(await db.OutboxMessages.AnyAsync(m => m.RecipientUserId == invitee.Id && m.Kind == NotificationKinds.AllocationMemberInvited));
        }

        using var memberClient = new PortalClient(factory);
        await memberClient.SignInAsync(invitee.Email!);
        using (var hidden = await memberClient.GetAsync($"/Allocations/{allocation.Id}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        }
        Assert.Contains("invite-acct", await memberClient.GetPageAsync("/Allocations/Invitations"), StringComparison.Ordinal);
        Assert.Contains("An invitation", await memberClient.GetPageAsync("/Allocations"), StringComparison.Ordinal);
        using (var accepted = await memberClient.PostFormAsync("/Allocations/Invitations", new Dictionary<string, string> { ["allocationId"] = allocation.Id.ToString() },
            "/Allocations/Invitations?handler=Accept"))
        {
            Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
            Assert.Equal($"/Allocations/{allocation.Id}", accepted.Headers.Location!.OriginalString);
        }
        Assert.Contains("Project invite", await memberClient.GetPageAsync($"/Allocations/{allocation.Id}"), StringComparison.Ordinal);
        Assert.Contains("invite-acct", await memberClient.GetPageAsync("/Allocations"), StringComparison.Ordinal);
        // A member sees who is on it but manages nothing.
        Assert.DoesNotContain("handler=InviteMember", await memberClient.GetPageAsync($"/Allocations/{allocation.Id}"), StringComparison.Ordinal);

        await using var check = factory.NewDbContext();
        var history = await check.AllocationMemberEvents.Where(e => e.AllocationId == allocation.Id).OrderBy(e => e.Id).Select(e => new { e.UserId, e.Action, e.ActorUserId }).ToListAsync();
        Assert.Equal([(pi.Id, "added", (Guid?)null), (invitee.Id, "invited", pi.Id), (invitee.Id, "accepted", invitee.Id)],
            history.Select(h => (h.UserId, h.Action, h.ActorUserId)));
        Assert.Equal(2, await check.AuditEntries.CountAsync(a => a.SubjectId == allocation.Id.ToString() && a.Action.StartsWith("allocation.member-")));
        var ex = await Assert.ThrowsAsync<PostgresException>(() => check.Database.ExecuteSqlRawAsync("DELETE FROM allocation_member_events"));
        Assert.Contains("append-only", ex.MessageText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inviting_someone_without_an_account_or_twice_is_refused_beside_the_form_and_changes_nothing()
    {
        var (allocation, pi) = await AllocationAsync("refuse");
        var member = await factory.CreateUserAsync("refuse.member@example.edu");
        var unconfirmed = await factory.CreateUserAsync("refuse.unconfirmed@example.edu", confirmed: false);
        await factory.AddMemberAsync(allocation, member);
        using var client = new PortalClient(factory);
        await client.SignInAsync(pi.Email!);
        foreach (var (email, message) in new[]
        {
            ("nobody@example.edu", "No confirmed portal account has this email address"),
            (unconfirmed.Email!, "No confirmed portal account has this email address"),
            (member.Email!, "already a member"),
            (pi.Email!, "already a member"),
        })
        {
            using var response = await client.PostFormAsync($"/Allocations/{allocation.Id}", new Dictionary<string, string> { ["memberEmail"] = email },
                $"/Allocations/{allocation.Id}?handler=InviteMember");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains(message, System.Net.WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        }
        await using var db = factory.NewDbContext();
        Assert.Equal(2, await db.AllocationMembers.CountAsync(m => m.AllocationId == allocation.Id));
        Assert.Equal(3, await db.AllocationMemberEvents.CountAsync(e => e.AllocationId == allocation.Id));
    }

    [Fact]
    public async Task A_member_cannot_add_or_remove_others_and_the_PI_cannot_be_removed()
    {
        var (allocation, pi) = await AllocationAsync("manage");
        var member = await factory.CreateUserAsync("manage.member@example.edu");
        var other = await factory.CreateUserAsync("manage.other@example.edu");
        await factory.AddMemberAsync(allocation, member);
        var members = (Func<IServiceProvider, AllocationMembers>)(sp => sp.GetRequiredService<AllocationMembers>());

        var notPi = await Assert.ThrowsAsync<DomainException>(() => factory.WithScopeAsync(sp => members(sp).InviteAsync(allocation.Id, Viewer.Applicant(member.Id), other.Email!)));
        Assert.Contains("Only the allocation's PI", notPi.Message, StringComparison.Ordinal);
        // A member who may not invite learns nothing about which addresses have an account.
        var noProbe = await Assert.ThrowsAsync<DomainException>(() => factory.WithScopeAsync(sp => members(sp).InviteAsync(allocation.Id, Viewer.Applicant(member.Id), "nobody.manage@example.edu")));
        Assert.Equal(notPi.Message, noProbe.Message);
        var piStays = await Assert.ThrowsAsync<DomainException>(() => factory.WithScopeAsync(sp => members(sp).RemoveAsync(allocation.Id, Viewer.Applicant(pi.Id), pi.Id)));
        Assert.Contains("The PI cannot be removed", piStays.Message, StringComparison.Ordinal);
        // Someone who cannot see the allocation gets the 404 of one that does not exist.
        Assert.False(await factory.WithScopeAsync(sp => members(sp).RemoveAsync(allocation.Id, Viewer.Applicant(other.Id), member.Id)));
        Assert.Null(await factory.WithScopeAsync(sp => members(sp).InviteAsync(allocation.Id, Viewer.Applicant(other.Id), other.Email!)));
        Assert.False(await factory.WithScopeAsync(sp => members(sp).AcceptAsync(allocation.Id, other.Id)));
    }

    [Fact]
    public async Task A_removed_member_loses_the_allocation_and_a_declined_invitation_gives_nothing()
    {
        var (allocation, pi) = await AllocationAsync("remove");
        var member = await factory.CreateUserAsync("remove.member@example.edu");
        var decliner = await factory.CreateUserAsync("remove.decliner@example.edu");
        await factory.AddMemberAsync(allocation, member);
        await factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationMembers>().InviteAsync(allocation.Id, Viewer.Applicant(pi.Id), decliner.Email!));

        using var declinerClient = new PortalClient(factory);
        await declinerClient.SignInAsync(decliner.Email!);
        using (var declined = await declinerClient.PostFormAsync("/Allocations/Invitations", new Dictionary<string, string> { ["allocationId"] = allocation.Id.ToString() },
            "/Allocations/Invitations?handler=Decline"))
        {
            Assert.Equal(HttpStatusCode.Redirect, declined.StatusCode);
        }
        using (var hidden = await declinerClient.GetAsync($"/Allocations/{allocation.Id}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        }
        // Answering again finds no open invitation.
        using (var again = await declinerClient.PostFormAsync("/Allocations/Invitations", new Dictionary<string, string> { ["allocationId"] = allocation.Id.ToString() },
            "/Allocations/Invitations?handler=Accept"))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.Contains("no open invitation", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var piClient = new PortalClient(factory);
        await piClient.SignInAsync(pi.Email!);
        using (var removed = await piClient.PostFormAsync($"/Allocations/{allocation.Id}", new Dictionary<string, string> { ["userId"] = member.Id.ToString() },
            $"/Allocations/{allocation.Id}?handler=RemoveMember"))
        {
            Assert.Equal(HttpStatusCode.Redirect, removed.StatusCode);
        }
        using var memberClient = new PortalClient(factory);
        await memberClient.SignInAsync(member.Email!);
        using (var gone = await memberClient.GetAsync($"/Allocations/{allocation.Id}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }
        await using var db = factory.NewDbContext();
        Assert.Equal(AllocationMemberStatus.Removed, (await db.AllocationMembers.SingleAsync(m => m.AllocationId == allocation.Id && m.UserId == member.Id)).Status);
        Assert.Equal(["added", "invited", "accepted", "invited", "declined", "removed"],
            await db.AllocationMemberEvents.Where(e => e.AllocationId == allocation.Id).OrderBy(e => e.Id).Select(e => e.Action).ToListAsync());

        // The PI may invite them back; they answer again.
        await factory.AddMemberAsync(allocation, member);
        Assert.Contains("Project remove", await memberClient.GetPageAsync($"/Allocations/{allocation.Id}"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_admin_manages_members_from_the_admin_page()
    {
        var (allocation, _) = await AllocationAsync("adminmembers");
        var admin = await factory.CreateUserAsync("adminmembers.admin@program.example.org", [Roles.Admin, Roles.Researcher]);
        var invitee = await factory.CreateUserAsync("adminmembers.member@example.edu");
        using var client = new PortalClient(factory);
        await client.SignInAsync(admin.Email!);
        var page = $"/Admin/Allocations/Details?id={allocation.Id}";
        using (var invited = await client.PostFormAsync(page, new Dictionary<string, string> { ["memberEmail"] = invitee.Email! }, page + "&handler=InviteMember"))
        {
            Assert.Equal(HttpStatusCode.Redirect, invited.StatusCode);
        }
        Assert.Contains("invited, not answered", await client.GetPageAsync(page), StringComparison.Ordinal);
        await using var db = factory.NewDbContext();
        Assert.Equal(admin.Id, (await db.AllocationMemberEvents.SingleAsync(e => e.AllocationId == allocation.Id && e.Action == "invited")).ActorUserId);
    }
}
