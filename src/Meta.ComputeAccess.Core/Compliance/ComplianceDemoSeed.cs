using System.Text;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Demo;
using Meta.ComputeAccess.Identity;

namespace Meta.ComputeAccess.Compliance;

/// <summary>
/// Demo data of the compliance module: example program country rules, a small screening list in the Consolidated
/// Screening List's CSV layout, and one screening of the demo's open proposals and allocations, which leaves one
/// near-match in the compliance queue to clear (the list's "Lukas Schmitt" against the demo researcher Lukas Schmidt).
/// </summary>
public sealed class ComplianceDemoSeed(PortalDbContext db, ScreeningLists lists, PartyScreening screening, TimeProvider clock) : IDemoSeedStep
{
    public const string ListName = "Demo restricted parties";

    /// <summary>Made-up entries; the header is the real export's.</summary>
    public const string ListCsv = """
        _id,source,entity_number,type,programs,name,title,addresses,federal_register_notice,start_date,end_date,standard_order,license_requirement,license_policy,call_sign,vessel_type,gross_tonnage,gross_registered_tonnage,vessel_flag,vessel_owner,remarks,source_list_url,alt_names,citizenships,dates_of_birth,nationalities,places_of_birth,source_information_url,ids
        demo-0001,Denied Persons List (DPL) - Bureau of Industry and Security,,Individual,,SCHMITT Lukas,,"Ulitsa Lenina 1, Kaliningrad, 236000, RU",,,,,,,,,,,,,Demo entry,,L. Schmitt,,1961-04-02,RU,,,
        demo-0002,Entity List (EL) - Bureau of Industry and Security,,Entity,,"Harbour Dynamics Trading Co., Ltd.",,"Unit 9, Free Zone, Dubai, AE",,,,,,,,,,,,,Demo entry,,Harbour Dynamics,,,,,,
        demo-0003,Specially Designated Nationals (SDN) - Treasury Department,,Individual,,VOLKOV Ivan Sergeyevich,,"Moscow, RU",,,,,,,,,,,,,Demo entry,,Иван Сергеевич Волков,,1970-01-15,RU,,,
        demo-0004,Entity List (EL) - Bureau of Industry and Security,,Entity,,Northwind Precision Instruments GmbH,,"Industriestrasse 4, Minsk, BY",,,,,,,,,,,,,Demo entry,,,,,,,,
        demo-0005,Specially Designated Nationals (SDN) - Treasury Department,,Vessel,,SEA BREEZE,,,,,,,,,,,,,,,Demo entry,,,,,,,,
        """;

    public int Order => 90;

    public async Task SeedAsync(CancellationToken cancellationToken)
    {
        var admin = db.Users.Where(u => u.Email == DemoSeeder.People[0].Account.Email).Select(u => u.Id).Single();
        var now = clock.GetUtcNow();
        foreach (var (country, level) in new[] { ("KP", CountryLevel.Embargoed), ("IR", CountryLevel.Embargoed), ("BY", CountryLevel.Restricted) })
        {
            db.CountryRules.Add(CountryRule.Create(country, level, admin, now));
        }
        await db.SaveChangesAsync(cancellationToken);
        var bytes = Encoding.UTF8.GetBytes(ListCsv);
        var parsed = ScreeningListCsv.Parse(bytes, ScreeningListFormat.Auto, int.MaxValue);
        await lists.StoreAsync(ListName, parsed, "demo-restricted-parties.csv", Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), admin, cancellationToken);
        var targets = await screening.ProposalTargetsAsync(screening.OpenProposals(), cancellationToken);
        targets.AddRange(await screening.AllocationTargetsAsync(db.Allocations.Where(a => Allocation.ChargeableStates.Contains(a.State)), cancellationToken));
        await screening.ScreenAsync(targets, refuseEmbargo: false, cancellationToken);
    }
}
