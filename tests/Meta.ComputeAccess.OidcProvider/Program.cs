// The test and demo OpenID Connect provider; see ProviderHost. Run by deploy/local/start.sh and by the tests in-process.
Meta.ComputeAccess.OidcProvider.ProviderHost.Build(args).Run();
