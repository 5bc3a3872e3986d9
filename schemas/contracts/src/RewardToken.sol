// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title RewardToken
/// @notice The fixed-supply ERC-20 that fieldmint pays rewards in. The whole
/// supply is minted once to `holder` (in practice: the RewardsDistributor and a
/// treasury); there is no mint function afterwards.
contract RewardToken is ERC20 {
    constructor(string memory name_, string memory symbol_, address holder, uint256 supply)
        ERC20(name_, symbol_)
    {
        _mint(holder, supply);
    }
}
