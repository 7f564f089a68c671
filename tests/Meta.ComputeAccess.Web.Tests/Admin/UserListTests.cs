using System.Net;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Testing;

namespace Meta.ComputeAccess.Web.Tests.Admin;

public sealed class UserListTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Theory]
    [InlineData("2147483647")]
    [InlineData("99999")]
    [InlineData("0")]
    [InlineData("-2147483648")]
    [InlineData("not-a-page")]
    public async Task Any_page_number_answers_a_page_of_users(string page)
    {
        var admin = await factory.CreateUserAsync($"lister{page}@program.example.org", [Roles.Admin]);
        var listed = await factory.CreateUserAsync($"listed{page}@example.edu");
        using var client = new PortalClient(factory);
        await client.SignInAsync(admin.Email!);

        using var response = await client.GetAsync($"/Admin/Users?p={page}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // There are fewer users than fit on one page: every page number shows that page, with everyone on it.
        Assert.Contains($"<td>{listed.Email}</td>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
