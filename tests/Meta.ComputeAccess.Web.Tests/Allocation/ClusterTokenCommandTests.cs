using System.Text.RegularExpressions;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Testing;
using Meta.ComputeAccess.Web.Operations;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Tests.Allocation;

public sealed class ClusterTokenCommandTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task Cluster_token_create_prints_a_working_token_once_and_stores_only_its_hash()
    {
        var cluster = await factory.CreateClusterAsync("cli");
        ClusterCommands.Register();
        var command = PortalCommands.Parse(["cluster", "token", "create", cluster.Slug, "--name", "cron on login1"]);
        Assert.NotNull(command);

        var output = new StringWriter();
        var original = Console.Out;
        Console.SetOut(output);
        int exit;
        try
        {
            exit = await command.RunAsync(factory.Services);
        }
        finally
        {
            Console.SetOut(original);
        }
        Assert.Equal(0, exit);
        var secret = Regex.Match(output.ToString(), "mca_[A-Za-z0-9_-]{43}").Value;
        Assert.NotEmpty(secret);

        await using var db = factory.NewDbContext();
        var token = await db.ClusterTokens.SingleAsync(t => t.ClusterId == cluster.Id);
        Assert.Equal("cron on login1", token.Name);
        Assert.Equal(ClusterToken.Hash(secret), token.SecretHash);
        Assert.True(await db.AuditEntries.AnyAsync(a => a.Action == "cluster-token.created" && a.SubjectId == cluster.Id.ToString()));
        using var api = factory.ApiClient(secret);
        using var quotas = await api.GetAsync(new Uri($"/api/v1/clusters/{cluster.Slug}/quotas", UriKind.Relative));
        Assert.Equal(System.Net.HttpStatusCode.OK, quotas.StatusCode);

        var unknown = PortalCommands.Parse(["cluster", "token", "create", "no-such-cluster"]);
        var error = new StringWriter();
        var originalError = Console.Error;
        Console.SetError(error);
        try
        {
            Assert.Equal(1, await unknown!.RunAsync(factory.Services));
        }
        finally
        {
            Console.SetError(originalError);
        }
        Assert.Contains("No cluster has the slug 'no-such-cluster'", error.ToString(), StringComparison.Ordinal);
    }
}
