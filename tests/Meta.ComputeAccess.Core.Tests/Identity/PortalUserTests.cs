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

    [Fact]
    public void An_identity_provider_marks_institution_and_orcid_id_verified_and_typing_another_drops_the_mark()
    {
        var user = new PortalUser();
        user.ChangeInstitution("Example Univ.");
        user.ChangeOrcidId("0000-0001-5109-3700");
        Assert.False(user.InstitutionVerified);
        Assert.False(user.OrcidIdVerified);

        user.AcceptVerified("https://orcid.org/0000-0002-1825-0097", " Example State University ", ["faculty@uni.example.edu"]);

        Assert.Equal(("Example State University", true), (user.Institution, user.InstitutionVerified));
        Assert.Equal(("0000-0002-1825-0097", true), (user.OrcidId, user.OrcidIdVerified));
        Assert.Equal(["faculty@uni.example.edu"], user.VerifiedAffiliations);

        // Saving the profile unchanged keeps the marks; another value is the person's word, not the provider's.
        user.ChangeInstitution("Example State University");
        user.ChangeOrcidId("0000-0002-1825-0097");
        Assert.True(user.InstitutionVerified && user.OrcidIdVerified);
        user.ChangeInstitution("ESU");
        user.ChangeOrcidId(null);
        Assert.False(user.InstitutionVerified || user.OrcidIdVerified);
    }

    [Fact]
    public void A_provider_that_sends_no_orcid_id_or_institution_leaves_the_typed_ones()
    {
        var user = new PortalUser();
        user.ChangeInstitution("Typed Institute");
        user.ChangeOrcidId("0000-0001-5109-3700");

        user.AcceptVerified("not-an-orcid", null, []);

        Assert.Equal(("Typed Institute", false), (user.Institution, user.InstitutionVerified));
        Assert.Equal(("0000-0001-5109-3700", false), (user.OrcidId, user.OrcidIdVerified));
        Assert.Empty(user.VerifiedAffiliations);
    }
}
