using System.Net;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Allocation;

/// <summary>Logins on clusters: proposed by the person, confirmed, set or imported by admins (all or nothing), one person per login.</summary>
public sealed class ClusterLoginTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task A_person_proposes_their_login_and_it_counts_once_an_admin_confirms_it()
    {
        var cluster = await factory.CreateClusterAsync("loginpropose");
        var admin = await factory.CreateUserAsync("loginpropose.admin@program.example.org", [Roles.Admin, Roles.Researcher]);
        var person = await factory.CreateUserAsync("loginpropose.person@example.edu");
        using var client = new PortalClient(factory);
        await client.SignInAsync(person.Email!);
        using (var bad = await client.PostFormAsync("/Account/Logins", new Dictionary<string, string> { ["clusterId"] = cluster.Id.ToString(), ["login"] = "Bad Login!" },
            "/Account/Logins?handler=Propose"))
        {
            Assert.Equal(HttpStatusCode.OK, bad.StatusCode);
            Assert.Contains("A login is 1 to 32 lowercase letters", System.Net.WebUtility.HtmlDecode(await bad.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        }
        using (var proposed = await client.PostFormAsync("/Account/Logins", new Dictionary<string, string> { ["clusterId"] = cluster.Id.ToString(), ["login"] = "jdoe" },
            "/Account/Logins?handler=Propose"))
        {
            Assert.Equal(HttpStatusCode.Redirect, proposed.StatusCode);
        }
        Assert.Contains("waiting for an admin", await client.GetPageAsync("/Account/Logins"), StringComparison.Ordinal);
        await using (var db = factory.NewDbContext())
        {
            Assert.False((await db.ClusterLogins.SingleAsync(l => l.UserId == person.Id)).Confirmed);
            Assert.True(await db.Notifications.AnyAsync(n => n.UserId == admin.Id && n.Kind == NotificationKinds.AdminLoginProposed));
        }
        // The same proposal again changes nothing and does not tell the admins twice.
        await factory.WithScopeAsync(sp => sp.GetRequiredService<ClusterLogins>().ProposeAsync(person.Id, cluster.Id, "jdoe"));
        await using (var db = factory.NewDbContext())
        {
            Assert.Equal(1, await db.Notifications.CountAsync(n => n.UserId == admin.Id && n.Kind == NotificationKinds.AdminLoginProposed));
        }

        using var adminClient = new PortalClient(factory);
        await adminClient.SignInAsync(admin.Email!);
        var page = $"/Admin/Clusters/Logins/{cluster.Slug}";
        Assert.Contains("proposed", await adminClient.GetPageAsync(page), StringComparison.Ordinal);
        using (var confirmed = await adminClient.PostFormAsync(page, new Dictionary<string, string> { ["userId"] = person.Id.ToString() }, page + "?handler=Confirm"))
        {
            Assert.Equal(HttpStatusCode.Redirect, confirmed.StatusCode);
        }
        Assert.Contains("confirmed", await client.GetPageAsync("/Account/Logins"), StringComparison.Ordinal);
        // Confirmed: the person can no longer change it themselves.
        var locked = await Assert.ThrowsAsync<DomainException>(() => factory.WithScopeAsync(sp => sp.GetRequiredService<ClusterLogins>().ProposeAsync(person.Id, cluster.Id, "jdoe2")));
        Assert.Contains("confirmed", locked.Message, StringComparison.Ordinal);
        await using var check = factory.NewDbContext();
        var login = await check.ClusterLogins.SingleAsync(l => l.UserId == person.Id);
        Assert.Equal(("jdoe", true), (login.Login, login.Confirmed));
        Assert.Equal(2, await check.AuditEntries.CountAsync(a => a.SubjectId == person.Id.ToString() && a.Action.StartsWith("cluster-login.")));
    }

    [Fact]
    public async Task A_login_belongs_to_one_person_per_cluster()
    {
        var cluster = await factory.CreateClusterAsync("loginunique");
        var second = await factory.CreateClusterAsync("loginunique2");
        var admin = await factory.CreateUserAsync("loginunique.admin@program.example.org", [Roles.Admin, Roles.Researcher]);
        var first = await factory.CreateUserAsync("loginunique.first@example.edu");
        var other = await factory.CreateUserAsync("loginunique.other@example.edu");
        await factory.SetLoginAsync(cluster, first, "shared", admin.Id);
        var taken = await Assert.ThrowsAsync<DomainException>(() => factory.SetLoginAsync(cluster, other, "shared", admin.Id));
        Assert.Contains("belongs to someone else", taken.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<DomainException>(() => factory.WithScopeAsync(sp => sp.GetRequiredService<ClusterLogins>().ProposeAsync(other.Id, cluster.Id, "shared")));
        // Another cluster is another namespace.
        await factory.SetLoginAsync(second, other, "shared", admin.Id);
        await using var db = factory.NewDbContext();
        Assert.Equal(2, await db.ClusterLogins.CountAsync(l => l.Login == "shared"));
    }

    [Fact]
    public async Task A_proposed_login_cannot_squat_a_login_an_admin_gives_to_its_owner_by_hand_or_by_import()
    {
        var cluster = await factory.CreateClusterAsync("loginsquat");
        var admin = await factory.CreateUserAsync("loginsquat.admin@program.example.org", [Roles.Admin, Roles.Researcher]);
        var owner = await factory.CreateUserAsync("alice@squat.example.edu");
        var owner2 = await factory.CreateUserAsync("bruno@squat.example.edu");
        var squatter = await factory.CreateUserAsync("mallory@squat.example.edu");
        var squatter2 = await factory.CreateUserAsync("trudy@squat.example.edu");
        var logins = (IServiceProvider sp) => sp.GetRequiredService<ClusterLogins>();
        await factory.WithScopeAsync(sp => logins(sp).ProposeAsync(squatter.Id, cluster.Id, "alice"));
        await factory.WithScopeAsync(sp => logins(sp).ProposeAsync(squatter2.Id, cluster.Id, "bruno"));
        // Another person cannot propose it meanwhile; the admin's directory wins over a proposal.
        await Assert.ThrowsAsync<DomainException>(() => factory.WithScopeAsync(sp => logins(sp).ProposeAsync(owner.Id, cluster.Id, "alice")));

        await factory.SetLoginAsync(cluster, owner, "alice", admin.Id);
        var imported = await factory.WithScopeAsync(sp => logins(sp).ImportAsync(cluster.Id, "email,login\nbruno@squat.example.edu,bruno\n", admin.Id));
        Assert.Equal((true, 1), (imported.Imported, imported.Added));

        await using var db = factory.NewDbContext();
        var rows = await db.ClusterLogins.Where(l => l.ClusterId == cluster.Id).OrderBy(l => l.Login).Select(l => new { l.Login, l.UserId, l.Confirmed }).ToListAsync();
        Assert.Equal([("alice", owner.Id, true), ("bruno", owner2.Id, true)], rows.Select(r => (r.Login, r.UserId, r.Confirmed)));
        var turnedDown = await db.AuditEntries.Where(a => a.Action == "cluster-login.removed" && (a.SubjectId == squatter.Id.ToString() || a.SubjectId == squatter2.Id.ToString()))
            .Select(a => a.Summary).ToListAsync();
        Assert.Equal(2, turnedDown.Count);
        Assert.All(turnedDown, t => Assert.Contains("an admin gave it to someone else", t, StringComparison.Ordinal));
        // A confirmed login still belongs to its person: the admin is refused, as before.
        await Assert.ThrowsAsync<DomainException>(() => factory.SetLoginAsync(cluster, squatter, "alice", admin.Id));
    }

    [Fact]
    public async Task A_csv_import_with_any_wrong_line_changes_nothing_and_names_every_wrong_line()
    {
        var cluster = await factory.CreateClusterAsync("loginimport");
        var admin = await factory.CreateUserAsync("loginimport.admin@program.example.org", [Roles.Admin, Roles.Researcher]);
        var ada = await factory.CreateUserAsync("ada@import.example.edu");
        var bob = await factory.CreateUserAsync("bob@import.example.edu");
        var cyd = await factory.CreateUserAsync("cyd@import.example.edu");
        var dee = await factory.CreateUserAsync("dee@import.example.edu");
        await factory.CreateUserAsync("eve@import.example.edu");
        await factory.SetLoginAsync(cluster, dee, "deelogin", admin.Id);
        using var client = new PortalClient(factory);
        await client.SignInAsync(admin.Email!);
        var page = $"/Admin/Clusters/Logins/{cluster.Slug}";

        var wrong = string.Join('\n',
            "email,login",
            "ada@import.example.edu,ada",
            "bob@import.example.edu,Bob Smith",
            "nobody@import.example.edu,nobody",
            "cyd@import.example.edu,ada",
            "ADA@import.example.edu,ada2",
            "bob@import.example.edu",
            "eve@import.example.edu,deelogin");
        using (var refused = await client.PostFormAsync(page, new Dictionary<string, string> { ["csv"] = wrong }, page + "?handler=Import"))
        {
            Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
            var html = System.Net.WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync());
            Assert.Contains("Nothing was imported", html, StringComparison.Ordinal);
            Assert.Contains("line 3: \"Bob Smith\" is not a valid login", html, StringComparison.Ordinal);
            Assert.Contains("line 4: no portal account has the email nobody@import.example.edu", html, StringComparison.Ordinal);
            Assert.Contains("line 5: the login ada is already on line 2", html, StringComparison.Ordinal);
            Assert.Contains("line 6: ADA@import.example.edu is already on line 2", html, StringComparison.Ordinal);
            Assert.Contains("line 7: expected 2 comma-separated fields", html, StringComparison.Ordinal);
            Assert.Contains("line 8: the login deelogin is the login of dee@import.example.edu", html, StringComparison.Ordinal);
        }
        await using (var db = factory.NewDbContext())
        {
            Assert.Equal(["deelogin"], await db.ClusterLogins.Where(l => l.ClusterId == cluster.Id).Select(l => l.Login).ToListAsync());
        }

        // Dee moves to a new login in the same file, so hers is free for Cyd: the final state is what counts.
        var right = "ada@import.example.edu,ada\nbob@import.example.edu,bsmith\ncyd@import.example.edu,deelogin\ndee@import.example.edu,dee\n";
        using (var imported = await client.PostFormAsync(page, new Dictionary<string, string> { ["csv"] = right }, page + "?handler=Import"))
        {
            Assert.Equal(HttpStatusCode.Redirect, imported.StatusCode);
        }
        await using var after = factory.NewDbContext();
        var logins = await after.ClusterLogins.Where(l => l.ClusterId == cluster.Id).ToDictionaryAsync(l => l.UserId, l => (l.Login, l.Confirmed));
        Assert.Equal(("ada", true), logins[ada.Id]);
        Assert.Equal(("bsmith", true), logins[bob.Id]);
        Assert.Equal(("deelogin", true), logins[cyd.Id]);
        Assert.Equal(("dee", true), logins[dee.Id]);
    }
}
