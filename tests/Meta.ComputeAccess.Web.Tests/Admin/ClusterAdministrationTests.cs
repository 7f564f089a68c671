using System.Net;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Tests.Admin;

public sealed class ClusterAdministrationTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private static Dictionary<string, string> Form(string name, string slug, string status = "Available") => new()
    {
        ["Input.Name"] = name, ["Input.Slug"] = slug, ["Input.AcceleratorModel"] = "H100 80GB", ["Input.Nodes"] = "4",
        ["Input.AcceleratorsPerNode"] = "8", ["Input.SlurmClusterName"] = slug.Replace("-", "", StringComparison.Ordinal),
        ["Input.TimeZoneId"] = "UTC", ["Input.Status"] = status,
    };

    [Fact]
    public async Task An_admin_adds_a_cluster_and_changes_its_status_and_both_are_audited()
    {
        using var client = await AdminAsync("adder");
        await SaveAsync(client, "/Admin/Clusters/Edit", Form("Blue Lake", "blue-lake"));
        await SaveAsync(client, "/Admin/Clusters/Edit/blue-lake", Form("Blue Lake", "blue-lake", "Maintenance"));

        await using var db = factory.NewDbContext();
        var cluster = await db.Clusters.SingleAsync(c => c.Slug == "blue-lake");
        Assert.Equal(ClusterStatus.Maintenance, cluster.Status);
        var audit = await db.AuditEntries.Where(a => a.SubjectId == cluster.Id.ToString()).OrderBy(a => a.Id).Select(a => new { a.Action, a.Summary }).ToListAsync();
        Assert.Equal(
        [
            new { Action = "cluster.created", Summary = "Created cluster Blue Lake" },
            new { Action = "cluster.status", Summary = "Blue Lake: Available → Maintenance" },
            new { Action = "cluster.updated", Summary = "Updated cluster Blue Lake" },
        ], audit);
    }

    [Fact]
    public async Task A_name_another_cluster_has_is_refused_beside_the_name_and_saves_nothing()
    {
        using var client = await AdminAsync("namer");
        await SaveAsync(client, "/Admin/Clusters/Edit", Form("Red Rock", "red-rock"));
        using var second = await client.PostFormAsync("/Admin/Clusters/Edit", Form("Red Rock", "red-rock-two"));

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var html = await second.Content.ReadAsStringAsync();
        Assert.Contains("Another cluster already has this name.", html, StringComparison.Ordinal);
        Assert.Contains("Choose another name.", html, StringComparison.Ordinal);
        await using var db = factory.NewDbContext();
        Assert.False(await db.Clusters.AnyAsync(c => c.Slug == "red-rock-two"));
        Assert.Equal(1, await db.AuditEntries.CountAsync(a => a.Action == "cluster.created" && a.Summary == "Created cluster Red Rock"));
    }

    [Fact]
    public async Task A_retired_cluster_cannot_come_back_and_the_refused_edit_saves_nothing()
    {
        using var client = await AdminAsync("retirer");
        await SaveAsync(client, "/Admin/Clusters/Edit", Form("Old Iron", "old-iron"));
        await SaveAsync(client, "/Admin/Clusters/Edit/old-iron", Form("Old Iron", "old-iron", "Retired"));
        using var back = await client.PostFormAsync("/Admin/Clusters/Edit/old-iron", Form("Old Iron renamed", "old-iron", "Available"));

        Assert.Equal(HttpStatusCode.OK, back.StatusCode);
        Assert.Contains("A retired cluster cannot be brought back; create a new one.", await back.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await using var db = factory.NewDbContext();
        var cluster = await db.Clusters.SingleAsync(c => c.Slug == "old-iron");
        Assert.Equal(("Old Iron", ClusterStatus.Retired), (cluster.Name, cluster.Status));
        // Only the retirement was recorded as an update.
        Assert.Equal(1, await db.AuditEntries.CountAsync(a => a.SubjectId == cluster.Id.ToString() && a.Action == "cluster.updated"));
    }

    [Fact]
    public async Task Editing_a_cluster_that_does_not_exist_answers_404()
    {
        using var client = await AdminAsync("ghost");
        using var response = await client.PostFormAsync("/Admin/Clusters/Edit", Form("Ghost", "ghost"), "/Admin/Clusters/Edit/ghost");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    /// <summary>Posts the cluster form and checks it was saved (the portal redirects to the list).</summary>
    private static async Task SaveAsync(PortalClient client, string page, Dictionary<string, string> form)
    {
        using var response = await client.PostFormAsync(page, form);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
    }

    private async Task<PortalClient> AdminAsync(string name)
    {
        var admin = await factory.CreateUserAsync($"{name}@program.example.org", [Roles.Admin]);
        var client = new PortalClient(factory);
        await client.SignInAsync(admin.Email!);
        return client;
    }
}
