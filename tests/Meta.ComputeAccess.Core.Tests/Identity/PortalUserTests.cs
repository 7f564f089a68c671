using Meta.ComputeAccess.Identity;

namespace Meta.ComputeAccess.Core.Tests.Identity;

public sealed class PortalUserTests
{
    [Theory]
    [InlineData("ada@CS.MIT.edu", "cs.mit.edu")]
    [InlineData("odd@name@ox.ac.uk", "ox.ac.uk")]
    [InlineData("  spaced@mit.edu  ", "mit.edu")]
    // Where the profile's copy had drifted from conflict detection's: it kept the trailing dot, the bare host and "".
    [InlineData("dot@mit.edu.", "mit.edu")]
    [InlineData("root@localhost", null)]
    [InlineData("blank@ ", null)]
    [InlineData("nothing@", null)]
    [InlineData("no-at-sign", null)]
    [InlineData("", null)]
    [InlineData(null, null)]
    public void The_domain_of_an_address_is_its_lower_cased_dotted_domain_or_none(string? email, string? domain) =>
        Assert.Equal(domain, PortalUser.DomainOf(email));

    [Fact]
    public void Confirming_the_address_records_its_domain()
    {
        var user = new PortalUser { Email = "Grace@NRL.Navy.mil." };

        user.MarkEmailConfirmed();

        Assert.True(user.EmailConfirmed);
        Assert.Equal("nrl.navy.mil", user.EmailDomain);
    }
}
